{#- One row per conversation across Hatch (aggregated messages), HueChat and Texter. `status` is
    the platform status mapped to the shared set (`conversation_status_map` seed; `unknown` when
    not listed), `status_original` the platform's own value; `channel` is mapped through the
    `conversation_channels` seed and otherwise kept as sent (lower-cased), flagged by
    `is_known_channel`. Counts are null where the platform does not report them.
    Incremental (delete+insert on conversation_key): a run recomputes the Hatch conversations whose
    int_hatch__conversations row differs from this table's (new, changed or gone: a join of the two
    tables, about a million narrow rows at 5M messages, where finding the batch again from the raw
    messages scanned every raw version) and every HueChat and Texter conversation (small, read from
    their staging views). A conversation that no longer exists in int_hatch__conversations comes out
    as a Hatch row without `message_count` (never null for a Hatch conversation), which replaces
    the old row and which the post-hook then deletes, in the same transaction. The comparison
    also repairs a Hatch row that drifted from its source for any reason.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='conversation_key',
        on_schema_change='append_new_columns',
        post_hook=["delete from {{ this }} where platform = 'hatch' and message_count is null"]
    )
}}

with

{% if is_incremental() %}
hatch_current as (

    select
        conversation_id,
        contact_id,
        channel_original,
        status_original,
        assigned_agent_id,
        created_at,
        last_message_at,
        message_count,
        _loaded_at
    from {{ this }}
    where platform = 'hatch'

),
{% endif %}

hatch as (

    select
        'hatch' as platform,
        {%- if is_incremental() %}
        coalesce(conversations.conversation_id, hatch_current.conversation_id) as conversation_id,
        {%- else %}
        conversations.conversation_id,
        {%- endif %}
        conversations.contact_id,
        conversations.channel as source_channel,
        conversations.contact_status as status_original,
        lower(conversations.contact_status) as status_key,
        conversations.assigned_agent_id,
        cast(null as {{ dbt.type_string() }}) as assigned_agent_name,
        conversations.created_at,
        conversations.last_message_at,
        conversations.message_count,
        cast(null as {{ dbt.type_int() }}) as unread_count,
        cast(null as {{ type_string_array() }}) as labels,
        conversations._loaded_at
    from {{ ref('int_hatch__conversations') }} as conversations
    {%- if is_incremental() %}
    {#- the Hatch rows that differ from int_hatch__conversations: new, changed, or gone (then
        without `message_count`, for the post-hook) #}
    full outer join hatch_current
        on conversations.conversation_id = hatch_current.conversation_id
    where conversations.conversation_id is null
        or hatch_current.conversation_id is null
        or conversations._loaded_at is distinct from hatch_current._loaded_at
        or conversations.message_count is distinct from hatch_current.message_count
        or conversations.contact_id is distinct from hatch_current.contact_id
        or conversations.channel is distinct from hatch_current.channel_original
        or conversations.contact_status is distinct from hatch_current.status_original
        or conversations.assigned_agent_id is distinct from hatch_current.assigned_agent_id
        or conversations.created_at is distinct from hatch_current.created_at
        or conversations.last_message_at is distinct from hatch_current.last_message_at
    {%- endif %}

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
