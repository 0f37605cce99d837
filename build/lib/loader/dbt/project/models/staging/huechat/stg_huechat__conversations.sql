{#- One row per HueChat conversation: its latest exported version (by updated_at, then the later
    load / record), typed, with the embedded contact's fields. An undocumented channel or status is
    kept (lower-cased) and flagged. -#}
with source as (

    select * from {{ source('huechat', 'huechat_conversations') }}

),

extracted as (

    select
        {{ empty_to_null(json_extract_text('record', 'id')) }} as conversation_id,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'contact_id')) }},
            {{ empty_to_null(json_extract_text('record', 'contact.id')) }}
        ) as contact_id,
        {{ empty_to_null(json_extract_text('record', 'contact.phone')) }} as contact_phone,
        {{ normalize_phone(json_extract_text('record', 'contact.phone')) }} as contact_phone_normalized,
        {{ normalize_email(json_extract_text('record', 'contact.email')) }} as contact_email,
        {{ empty_to_null(json_extract_text('record', 'contact.first_name')) }} as contact_first_name,
        {{ empty_to_null(json_extract_text('record', 'contact.last_name')) }} as contact_last_name,
        {{ empty_to_null(json_extract_text('record', 'contact.full_name')) }} as contact_full_name,
        lower({{ empty_to_null(json_extract_text('record', 'contact.preferred_channel')) }}) as contact_preferred_channel,
        lower({{ empty_to_null(json_extract_text('record', 'contact.status')) }}) as contact_status,
        {{ json_value_text('record', 'contact.metadata') }} as contact_metadata,
        {{ to_utc_timestamp(json_extract_text('record', 'contact.created_at')) }} as contact_created_at,
        {{ to_utc_timestamp(json_extract_text('record', 'contact.updated_at')) }} as contact_updated_at,
        {{ to_utc_timestamp(json_extract_text('record', 'contact.last_contacted')) }} as contact_last_contacted_at,
        lower({{ empty_to_null(json_extract_text('record', 'channel')) }}) as channel,
        {{ empty_to_null(json_extract_text('record', 'subject')) }} as subject,
        lower({{ empty_to_null(json_extract_text('record', 'status')) }}) as status,
        lower({{ empty_to_null(json_extract_text('record', 'priority')) }}) as priority,
        {{ empty_to_null(json_extract_text('record', 'assigned_to.id')) }} as assigned_agent_id,
        {{ empty_to_null(json_extract_text('record', 'assigned_to.name')) }} as assigned_agent_name,
        {{ normalize_email(json_extract_text('record', 'assigned_to.email')) }} as assigned_agent_email,
        {{ json_string_list('record', 'labels') }} as labels,
        {{ json_string_list('record', 'tags') }} as tags,
        {{ dbt.safe_cast(json_extract_text('record', 'message_count'), dbt.type_int()) }} as message_count,
        {{ dbt.safe_cast(json_extract_text('record', 'unread_count'), dbt.type_int()) }} as unread_count,
        {{ to_utc_timestamp(json_extract_text('record', 'created_at')) }} as created_at,
        {{ to_utc_timestamp(json_extract_text('record', 'updated_at')) }} as updated_at,
        {{ to_utc_timestamp(json_extract_text('record', 'last_message_at')) }} as last_message_at,
        {{ empty_to_null(json_extract_text('record', 'last_message_preview')) }} as last_message_preview,
        _file_name,
        _file_sha256,
        _record_number,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from source

),

ranked as (

    select
        extracted.*,
        row_number() over (
            partition by conversation_id
            order by updated_at desc nulls last, _loaded_at desc, _file_name desc, _record_number desc
        ) as version_rank
    from extracted

),

known_channels as (

    select source_channel from {{ ref('conversation_channels') }} where platform = 'huechat'

),

known_statuses as (

    select source_status from {{ ref('conversation_status_map') }} where platform = 'huechat'

)

select
    ranked.conversation_id,
    ranked.contact_id,
    ranked.contact_phone,
    ranked.contact_phone_normalized,
    ranked.contact_email,
    ranked.contact_first_name,
    ranked.contact_last_name,
    ranked.contact_full_name,
    ranked.contact_preferred_channel,
    ranked.contact_status,
    ranked.contact_metadata,
    ranked.contact_created_at,
    ranked.contact_updated_at,
    ranked.contact_last_contacted_at,
    ranked.channel,
    known_channels.source_channel is not null as is_known_channel,
    ranked.subject,
    ranked.status,
    known_statuses.source_status is not null as is_known_status,
    ranked.priority,
    ranked.assigned_agent_id,
    ranked.assigned_agent_name,
    ranked.assigned_agent_email,
    ranked.labels,
    ranked.tags,
    ranked.message_count,
    ranked.unread_count,
    ranked.created_at,
    ranked.updated_at,
    ranked.last_message_at,
    ranked.last_message_preview,
    ranked._file_name,
    ranked._file_sha256,
    ranked._record_number,
    ranked._loaded_at
from ranked
left join known_channels
    on ranked.channel = known_channels.source_channel
left join known_statuses
    on ranked.status = known_statuses.source_status
where ranked.version_rank = 1
