{#- One row per Hatch conversation, aggregated from its messages. Channel: the category of the
    first message; assigned agent: the actor of the latest message sent by a Hatch user; status:
    the contact's latest campaign `contact_status` (Hatch has no conversation status). -#}
with messages as (

    select
        conversation_id, contact_id, category, actor_type, actor_id, direction, message_id, message_at
    from {{ ref('int_hatch__messages') }}
    where conversation_id is not null

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
        sum(case when direction = 'outbound' then 1 else 0 end) as outbound_message_count
    from ordered
    group by conversation_id

),

contact_statuses as (

    select
        hatch_contact_id,
        contact_status,
        row_number() over (
            partition by hatch_contact_id order by updated_at desc nulls last, contact_history_id
        ) as status_rank
    from {{ ref('stg_hatch__contact_history') }}
    where hatch_contact_id is not null

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
    conversations.outbound_message_count
from conversations
left join contact_statuses
    on conversations.contact_id = contact_statuses.hatch_contact_id
    and contact_statuses.status_rank = 1
