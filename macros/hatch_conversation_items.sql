{#- The SQL of `stg_hatch__conversation_items` (one row per message id, its newest version), shared
    with the incremental `int_hatch__messages`. `raw_filter`: optional condition on the raw rows;
    when given, only those rows are ranked (the incremental batch, whose winners
    `newest_over_current` then compares with the versions already chosen). The staging view calls
    it without one. -#}
{% macro hatch_conversation_items_latest(raw_filter=none) -%}
with source as (

    select * from {{ source('hatch', 'hatch_conversation_items') }}

),

renamed as (

    select
        {{ empty_to_null('id') }} as message_id,
        {{ empty_to_null('conversation_id') }} as conversation_id,
        {{ empty_to_null('contact_id') }} as contact_id,
        {{ empty_to_null('organization_id') }} as organization_id,
        {{ empty_to_null('organization_name') }} as organization_name,
        {{ empty_to_null('workspace_id') }} as workspace_id,
        {{ empty_to_null('workspace_name') }} as workspace_name,
        {{ empty_to_null('actor_type') }} as actor_type,
        {{ empty_to_null('actor_id') }} as actor_id,
        {{ empty_to_null('category') }} as category,
        {{ empty_to_null('type') }} as message_type,
        {{ normalize_direction('direction') }} as direction,
        {{ empty_to_null('direction') }} as direction_raw,
        {{ empty_to_null('body') }} as body,
        lower({{ empty_to_null('delivery_status') }}) as delivery_status,
        {{ empty_to_null('delivery_status') }} as delivery_status_raw,
        {{ empty_to_null('status_history') }} as status_history_raw,
        {{ empty_to_null('chatbot_disposition') }} as chatbot_disposition,
        {{ to_utc_timestamp('send_at') }} as send_at,
        {{ to_boolean('is_scheduled') }} as is_scheduled,
        {{ empty_to_null('provider_name') }} as provider_name,
        {{ empty_to_null('provider_message_id') }} as provider_message_id,
        {{ empty_to_null('mongo_id') }} as mongo_id,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _export_end_date,
        _file_name,
        _record_number,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from source
    {%- if raw_filter is not none %}
    where {{ raw_filter }}
    {%- endif %}

),

ranked as (

    select
        renamed.*,
        row_number() over (
            partition by message_id
            order by
                updated_at desc nulls last,
                _export_end_date desc nulls last,
                _loaded_at desc,
                _file_name desc,
                _record_number desc
        ) as version_rank
    from renamed

),

latest as (

    select * from ranked where version_rank = 1

)

select
    latest.message_id,
    latest.conversation_id,
    latest.contact_id,
    latest.organization_id,
    latest.organization_name,
    latest.workspace_id,
    latest.workspace_name,
    latest.actor_type,
    latest.actor_id,
    latest.category,
    latest.message_type,
    latest.direction,
    latest.direction_raw,
    latest.body,
    latest.delivery_status,
    latest.delivery_status_raw,
    latest.status_history_raw,
    latest.chatbot_disposition,
    latest.send_at,
    latest.is_scheduled,
    latest.provider_name,
    latest.provider_message_id,
    latest.mongo_id,
    latest.updated_at,
    coalesce(
        latest.send_at,
        {{ hatch_status_history_first_at('latest.status_history_raw') }},
        latest.updated_at
    ) as message_at,
    latest._file_name,
    latest._record_number,
    latest._loaded_at
from latest
{%- endmacro %}
