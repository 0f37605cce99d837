{#- One row per lead: how fast it was touched. The first touch is the matched contact's first
    outbound message at or after the lead's creation; the first reply its first inbound message
    after that touch. A lead without a match (or without a parseable created time) is kept with
    nulls. -#}
with leads as (

    select * from {{ ref('stg_hatch__leads') }}

),

matches as (

    select * from {{ ref('int_hatch__lead_contact_matches') }}

),

{#- Only the messages of matched contacts: a semi-join on one column before the two joins below,
    which otherwise read every message twice (0.2-0.6 s a run at 5M messages, with few leads). -#}
messages as (

    select contact_id, direction, message_at
    from {{ ref('int_hatch__messages') }}
    where message_at is not null and direction in ('inbound', 'outbound')
        and contact_id in (select hatch_contact_id from matches)

),

lead_contacts as (

    select matches.lead_id, matches.hatch_contact_id, leads.created_at
    from matches
    inner join leads on matches.lead_id = leads.lead_id

),

{#- Equality joins only, the time conditions inside the aggregates: with the inequality in the
    join condition DuckDB joined leads to every message before matching contacts (quadratic). -#}
first_touches as (

    select
        lead_contacts.lead_id,
        min(
            case
                when messages.direction = 'outbound'
                    and messages.message_at >= lead_contacts.created_at
                    then messages.message_at
            end
        ) as first_outbound_at
    from lead_contacts
    inner join messages on lead_contacts.hatch_contact_id = messages.contact_id
    group by lead_contacts.lead_id

),

first_replies as (

    select
        first_touches.lead_id,
        min(
            case
                when messages.direction = 'inbound'
                    and messages.message_at >= first_touches.first_outbound_at
                    then messages.message_at
            end
        ) as first_reply_at
    from first_touches
    inner join lead_contacts on first_touches.lead_id = lead_contacts.lead_id
    inner join messages on lead_contacts.hatch_contact_id = messages.contact_id
    where first_touches.first_outbound_at is not null
    group by first_touches.lead_id

)

select
    cast(leads.lead_id as {{ dbt.type_string() }}) as lead_id,
    cast(leads.lead_key_type as {{ dbt.type_string() }}) as lead_key_type,
    cast(leads.source as {{ dbt.type_string() }}) as lead_source,
    cast(leads.status as {{ dbt.type_string() }}) as lead_status,
    cast(leads.sender_lead_id as {{ dbt.type_string() }}) as sender_lead_id,
    cast(leads.sender_contact_id as {{ dbt.type_string() }}) as sender_contact_id,
    cast(leads.phone_number as {{ dbt.type_string() }}) as phone_number,
    cast(leads.email as {{ dbt.type_string() }}) as email,
    cast(leads.created_at as {{ dbt.type_timestamp() }}) as lead_created_at,
    leads.is_created_at_unparseable,
    cast(matches.hatch_contact_id as {{ dbt.type_string() }}) as hatch_contact_id,
    cast(matches.contact_history_id as {{ dbt.type_string() }}) as contact_history_id,
    cast(matches.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(matches.campaign_name as {{ dbt.type_string() }}) as campaign_name,
    cast(matches.match_method as {{ dbt.type_string() }}) as match_method,
    matches.lead_id is not null as is_matched,
    cast(first_touches.first_outbound_at as {{ dbt.type_timestamp() }}) as first_outbound_at,
    cast(first_replies.first_reply_at as {{ dbt.type_timestamp() }}) as first_reply_at,
    cast({{ dbt.datediff('leads.created_at', 'first_touches.first_outbound_at', 'second') }} as {{ dbt.type_bigint() }}) as seconds_to_first_touch,
    cast({{ dbt.datediff('leads.created_at', 'first_replies.first_reply_at', 'second') }} as {{ dbt.type_bigint() }}) as seconds_to_first_reply,
    first_touches.first_outbound_at is not null as is_touched,
    first_replies.first_reply_at is not null as has_reply
from leads
left join matches on leads.lead_id = matches.lead_id
left join first_touches on leads.lead_id = first_touches.lead_id
left join first_replies on leads.lead_id = first_replies.lead_id
