{#- Every exported version of every Hatch message, renamed and typed. Re-exports add versions;
    stg_hatch__conversation_items keeps the newest of each. A table, appended with the versions
    loaded since its newest load: as a view it renamed and parsed every raw row (status histories
    included) on every read, which an incremental build cannot afford. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns'
    )
}}

with source as (

    select * from {{ source('hatch', 'hatch_conversation_items') }}
    {%- if is_incremental() %}
    where _loaded_at > (select max(_loaded_at) from {{ this }})
    {%- endif %}

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
    coalesce(send_at, {{ hatch_status_history_first_at('status_history_raw') }}, updated_at) as message_at,
    _export_end_date,
    _file_name,
    _record_number,
    _loaded_at
from renamed
