{#- One row per Texter chat: its latest exported version (by updatedAt, then the later load /
    record). Time fields are converted by their naming rule (macro `texter_time`); the current
    field is preferred and the deprecated one (channel, clientPhone*, entityPhone, lastText,
    unsubscribeTime) used only when the current one is missing. Status codes are named through the
    `texter_chat_statuses` seed; an unknown code is kept and flagged. -#}
with source as (

    select * from {{ source('texter', 'texter_chats') }}

),

extracted as (

    select
        {{ empty_to_null(json_extract_text('record', '_id')) }} as chat_id,
        {{ empty_to_null(json_extract_text('record', 'title')) }} as title,
        {{ empty_to_null(json_extract_text('record', 'displayName')) }} as display_name,
        {{ empty_to_null(json_extract_text('record', 'personId')) }} as person_id,
        lower({{ empty_to_null(json_extract_text('record', 'channelInfo.name')) }}) as channel_current,
        lower({{ empty_to_null(json_extract_text('record', 'channel')) }}) as channel_deprecated,
        {{ empty_to_null(json_extract_text('record', 'channelInfo.id')) }} as channel_contact_id_current,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'clientPhoneE164')) }},
            {{ empty_to_null(json_extract_text('record', 'clientPhone')) }}
        ) as channel_contact_id_deprecated,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'channelInfo.accountId')) }},
            {{ empty_to_null(json_extract_text('record', 'entityPhone')) }}
        ) as business_account_id,
        {{ empty_to_null(json_extract_text('record', 'clientPhoneE164')) }} as client_phone_e164,
        {{ empty_to_null(json_extract_text('record', 'agent.uid')) }} as agent_id,
        {{ empty_to_null(json_extract_text('record', 'agent.displayName')) }} as agent_name,
        {{ empty_to_null(json_extract_text('record', 'departmentId')) }} as department_id,
        {{ empty_to_null(json_extract_text('record', 'status')) }} as status_code_raw,
        {{ dbt.safe_cast(json_extract_text('record', 'unreadCount'), dbt.type_int()) }} as unread_count,
        {{ json_string_list('record', 'labels') }} as labels,
        {{ empty_to_null(json_extract_text('record', 'lastMessage.type')) }} as last_message_type,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'lastMessage.text')) }},
            {{ empty_to_null(json_extract_text('record', 'lastText')) }}
        ) as last_message_text,
        coalesce(
            {{ texter_time('record', 'last_message_timestamp') }},
            {{ texter_time('record', 'lastMessageTimestamp') }}
        ) as last_message_at,
        {{ texter_time('record', 'lastIncomingMessageTimestamp') }} as last_incoming_message_at,
        {{ texter_time('record', 'created') }} as created_at,
        {{ texter_time('record', 'updatedAt') }} as updated_at,
        {{ texter_time('record', 'pendingUpdateTime') }} as pending_updated_at,
        {{ texter_time('record', 'resolvedUpdateTime') }} as resolved_updated_at,
        {{ texter_time('record', 'pendingMessageTime') }} as pending_message_at,
        {{ texter_time('record', 'unsubscribed.date') }} as unsubscribed_at_current,
        {{ texter_time('record', 'unsubscribeTime') }} as unsubscribed_at_deprecated,
        {{ to_boolean(json_extract_text('record', 'blockedChat.blocked')) }} as is_blocked,
        {{ to_boolean(json_extract_text('record', 'hasMessageError')) }} as has_message_error,
        {{ to_boolean(json_extract_text('record', 'externalBot')) }} as is_external_bot,
        {{ json_value_text('record', 'crmData') }} as crm_data,
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
            partition by chat_id
            order by updated_at desc nulls last, _loaded_at desc, _file_name desc, _record_number desc
        ) as version_rank
    from extracted

),

statuses as (

    select status_code, status_name, status_label from {{ ref('texter_chat_statuses') }}

),

known_channels as (

    select source_channel from {{ ref('conversation_channels') }} where platform = 'texter'

),

chats as (

    select
        ranked.*,
        coalesce(ranked.channel_current, ranked.channel_deprecated) as channel,
        coalesce(ranked.channel_contact_id_current, ranked.channel_contact_id_deprecated) as channel_contact_id,
        coalesce(ranked.unsubscribed_at_current, ranked.unsubscribed_at_deprecated) as unsubscribed_at,
        {{ dbt.safe_cast("ranked.status_code_raw", dbt.type_int()) }} as status_code
    from ranked
    where ranked.version_rank = 1

)

select
    chats.chat_id,
    chats.title,
    chats.display_name,
    chats.person_id,
    chats.channel,
    known_channels.source_channel is not null as is_known_channel,
    chats.channel_current is null and chats.channel_deprecated is not null as is_channel_from_deprecated_field,
    chats.channel_contact_id,
    {{ normalize_phone(
        "coalesce(chats.client_phone_e164, case when chats.channel in ('whatsapp', 'sms') and chats.channel_contact_id_current is not null then "
        ~ dbt.concat(["'+'", "chats.channel_contact_id_current"]) ~ " end)"
    ) }} as contact_phone_normalized,
    chats.business_account_id,
    chats.agent_id,
    chats.agent_name,
    chats.department_id,
    chats.status_code,
    chats.status_code_raw,
    statuses.status_name,
    statuses.status_label,
    statuses.status_code is not null as is_known_status,
    chats.unread_count,
    chats.labels,
    chats.last_message_type,
    chats.last_message_text,
    chats.last_message_at,
    chats.last_incoming_message_at,
    chats.created_at,
    chats.updated_at,
    chats.pending_updated_at,
    chats.resolved_updated_at,
    chats.pending_message_at,
    chats.unsubscribed_at,
    chats.unsubscribed_at is not null as is_unsubscribed,
    chats.is_blocked,
    chats.has_message_error,
    chats.is_external_bot,
    chats.crm_data,
    chats._file_name,
    chats._file_sha256,
    chats._record_number,
    chats._loaded_at
from chats
left join statuses
    on chats.status_code = statuses.status_code
left join known_channels
    on chats.channel = known_channels.source_channel
