{#- One row per Hatch conversation, aggregated from its messages. Channel: the category of the
    first message; assigned agent: the actor of the latest message sent by a Hatch user; status:
    the contact's latest campaign `contact_status` (Hatch has no conversation status).
    Incremental: a run recomputes, from all their messages, the conversations that a message
    changed since the newest load in this table is in or was in (a re-exported message can move),
    and those of contacts with a new campaign status. A conversation left without messages (every
    message moved away) gets a row with `message_count` 0, which replaces its old row; the marts
    leave such rows out. -#}
{{
    config(
        materialized=hatch_incremental_materialization(),
        incremental_strategy=hatch_incremental_strategy(),
        unique_key='conversation_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ ref('stg_hatch__conversation_item_versions') }}
-- depends_on: {{ ref('stg_hatch__contact_history_versions') }}

with

{% if is_incremental() %}
changed_messages as (

    select message_id
    from {{ ref('int_hatch__messages') }}
    where _loaded_at > (select max(_loaded_at) from {{ this }})

),

changed_contact_history as (

    select contact_history_id
    from {{ ref('int_hatch__contact_history') }}
    where _loaded_at > (select max(_loaded_at) from {{ this }})

),

batch_conversations as (

    {#- every version's conversation, so the one a moved message left is recomputed too #}
    select conversation_id
    from {{ ref('stg_hatch__conversation_item_versions') }}
    where message_id in (select message_id from changed_messages)
    union
    {#- the conversations of every contact a changed record has or had: their status may change #}
    select conversation_id
    from {{ this }}
    where contact_id in (
        select hatch_contact_id
        from {{ ref('stg_hatch__contact_history_versions') }}
        where contact_history_id in (select contact_history_id from changed_contact_history)
    )

),
{% endif %}

messages as (

    select
        conversation_id, contact_id, category, actor_type, actor_id, direction, message_id, message_at, _loaded_at
    from {{ ref('int_hatch__messages') }}
    where conversation_id is not null
    {%- if is_incremental() %}
        and conversation_id in (select conversation_id from batch_conversations)
    {%- endif %}

),

ordered as (

    select
        messages.*,
        row_number() over (
            partition by conversation_id order by message_at asc nulls last, message_id
        ) as first_rank,
        row_number() over (
            partition by conversation_id
            order by case when actor_type = 'hatch_user' then 0 else 1 end, message_at desc nulls last, message_id
        ) as agent_rank
    from messages

),

conversations as (

    select
        conversation_id,
        max(case when first_rank = 1 then contact_id end) as contact_id,
        max(case when first_rank = 1 then lower(category) end) as channel,
        max(case when agent_rank = 1 and actor_type = 'hatch_user' then actor_id end) as assigned_agent_id,
        min(message_at) as created_at,
        max(message_at) as last_message_at,
        count(*) as message_count,
        sum(case when direction = 'inbound' then 1 else 0 end) as inbound_message_count,
        sum(case when direction = 'outbound' then 1 else 0 end) as outbound_message_count,
        max(_loaded_at) as _loaded_at
    from ordered
    group by conversation_id

),

contact_statuses as (

    select
        hatch_contact_id,
        contact_status,
        _loaded_at,
        row_number() over (
            partition by hatch_contact_id order by updated_at desc nulls last, contact_history_id
        ) as status_rank
    from {{ ref('int_hatch__contact_history') }}
    where hatch_contact_id is not null
    {%- if is_incremental() %}
        and hatch_contact_id in (select contact_id from conversations)
    {%- endif %}

)

select
    conversations.conversation_id,
    conversations.contact_id,
    conversations.channel,
    contact_statuses.contact_status,
    conversations.assigned_agent_id,
    conversations.created_at,
    conversations.last_message_at,
    conversations.message_count,
    conversations.inbound_message_count,
    conversations.outbound_message_count,
    greatest(
        conversations._loaded_at, coalesce(contact_statuses._loaded_at, conversations._loaded_at)
    ) as _loaded_at
from conversations
left join contact_statuses
    on conversations.contact_id = contact_statuses.hatch_contact_id
    and contact_statuses.status_rank = 1
{%- if is_incremental() %}

union all

select
    batch_conversations.conversation_id,
    cast(null as {{ dbt.type_string() }}) as contact_id,
    cast(null as {{ dbt.type_string() }}) as channel,
    cast(null as {{ dbt.type_string() }}) as contact_status,
    cast(null as {{ dbt.type_string() }}) as assigned_agent_id,
    cast(null as {{ dbt.type_timestamp() }}) as created_at,
    cast(null as {{ dbt.type_timestamp() }}) as last_message_at,
    0 as message_count,
    0 as inbound_message_count,
    0 as outbound_message_count,
    cast(null as {{ dbt.type_timestamp() }}) as _loaded_at
from batch_conversations
left join conversations
    on batch_conversations.conversation_id = conversations.conversation_id
where batch_conversations.conversation_id is not null
    and conversations.conversation_id is null
{%- endif %}
