{#- stg_hatch__conversation_items materialized (without `body`), so the marts read a table rather
    than re-ranking every raw version. Incremental: a run re-ranks every version of each message
    that has a version loaded since the newest load in this table, and replaces those messages. -#}
{{
    config(
        materialized=hatch_incremental_materialization(),
        incremental_strategy=hatch_incremental_strategy(),
        unique_key='message_id',
        on_schema_change='append_new_columns'
    )
}}

with versions as (

    select * from {{ ref('stg_hatch__conversation_item_versions') }}
    {%- if is_incremental() %}
    where message_id in (
        select message_id
        from {{ ref('stg_hatch__conversation_item_versions') }}
        where _loaded_at > (select max(_loaded_at) from {{ this }})
    )
    {%- endif %}

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
