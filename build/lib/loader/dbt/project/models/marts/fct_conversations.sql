{#- One row per conversation across Hatch (aggregated messages), HueChat and Texter. `status` is
    the platform status mapped to the shared set (`conversation_status_map` seed; `unknown` when
    not listed), `status_original` the platform's own value; `channel` is mapped through the
    `conversation_channels` seed and otherwise kept as sent (lower-cased), flagged by
    `is_known_channel`. Counts are null where the platform does not report them. -#}
with

hatch as (

    select
        'hatch' as platform,
        conversation_id,
        contact_id,
        channel as source_channel,
        contact_status as status_original,
        lower(contact_status) as status_key,
        assigned_agent_id,
        cast(null as {{ dbt.type_string() }}) as assigned_agent_name,
        created_at,
        last_message_at,
        message_count,
        cast(null as {{ dbt.type_int() }}) as unread_count,
        cast(null as {{ type_string_array() }}) as labels,
        _loaded_at
    from {{ ref('int_hatch__conversations') }}
    where message_count > 0  {#- not the rows of conversations whose messages all moved away #}

),

huechat as (

    select
        'huechat' as platform,
        conversation_id,
        contact_id,
        channel as source_channel,
        status as status_original,
        lower(status) as status_key,
        assigned_agent_id,
        assigned_agent_name,
        created_at,
        last_message_at,
        message_count,
        unread_count,
        labels,
        _loaded_at
    from {{ ref('stg_huechat__conversations') }}

),

texter as (

    select
        'texter' as platform,
        chat_id as conversation_id,
        channel_contact_id as contact_id,
        channel as source_channel,
        coalesce(status_name, status_code_raw) as status_original,
        lower(coalesce(status_name, status_code_raw)) as status_key,
        agent_id as assigned_agent_id,
        agent_name as assigned_agent_name,
        created_at,
        last_message_at,
        cast(null as {{ dbt.type_int() }}) as message_count,
        unread_count,
        labels,
        _loaded_at
    from {{ ref('stg_texter__chats') }}

),

unioned as (

    select * from hatch
    union all
    select * from huechat
    union all
    select * from texter

),

statuses as (

    select platform, source_status, status from {{ ref('conversation_status_map') }}

),

channels as (

    select platform, source_channel, channel from {{ ref('conversation_channels') }}

)

select
    cast({{ dbt.concat(["unioned.platform", "':'", "unioned.conversation_id"]) }} as {{ dbt.type_string() }}) as conversation_key,
    cast(unioned.platform as {{ dbt.type_string() }}) as platform,
    cast(unioned.conversation_id as {{ dbt.type_string() }}) as conversation_id,
    cast(unioned.contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(coalesce(channels.channel, unioned.source_channel) as {{ dbt.type_string() }}) as channel,
    cast(unioned.source_channel as {{ dbt.type_string() }}) as channel_original,
    channels.channel is not null as is_known_channel,
    cast(coalesce(statuses.status, 'unknown') as {{ dbt.type_string() }}) as status,
    cast(unioned.status_original as {{ dbt.type_string() }}) as status_original,
    statuses.status is not null as is_known_status,
    cast(unioned.assigned_agent_id as {{ dbt.type_string() }}) as assigned_agent_id,
    cast(unioned.assigned_agent_name as {{ dbt.type_string() }}) as assigned_agent_name,
    cast(unioned.created_at as {{ dbt.type_timestamp() }}) as created_at,
    cast(unioned.last_message_at as {{ dbt.type_timestamp() }}) as last_message_at,
    cast(unioned.message_count as {{ dbt.type_bigint() }}) as message_count,
    cast(unioned.unread_count as {{ dbt.type_bigint() }}) as unread_count,
    unioned.labels,
    cast(unioned._loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at
from unioned
left join statuses
    on unioned.platform = statuses.platform
    and unioned.status_key = statuses.source_status
left join channels
    on unioned.platform = channels.platform
    and unioned.source_channel = channels.source_channel
