{#- One row per Hatch message: its newest version (macro `hatch_newest_version_first`). -#}
with versions as (

    select * from {{ ref('stg_hatch__conversation_item_versions') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by message_id order by {{ hatch_newest_version_first() }}
        ) as version_rank
    from versions

)

select
    message_id,
    conversation_id,
    contact_id,
    organization_id,
    organization_name,
    workspace_id,
    workspace_name,
    actor_type,
    actor_id,
    category,
    message_type,
    direction,
    direction_raw,
    body,
    delivery_status,
    delivery_status_raw,
    status_history_raw,
    chatbot_disposition,
    send_at,
    is_scheduled,
    provider_name,
    provider_message_id,
    mongo_id,
    updated_at,
    message_at,
    _file_name,
    _record_number,
    _loaded_at
from ranked
where version_rank = 1
