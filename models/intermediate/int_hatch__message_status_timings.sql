{#- One row per message that has a status history: when it was first handed to the carrier,
    first delivered, and how many history entries parsed or did not. -#}
with events as (

    select
        message_id,
        status,
        event_at,
        is_parsed
    from {{ ref('stg_hatch__message_status_events') }}

),

delivery_statuses as (

    select
        delivery_status,
        delivery_outcome,
        is_send_event
    from {{ ref('hatch_delivery_statuses') }}

)

select
    events.message_id,
    min(case when delivery_statuses.is_send_event then events.event_at end) as first_sent_at,
    min(case when delivery_statuses.delivery_outcome = 'delivered' then events.event_at end) as first_delivered_at,
    cast(count(*) as {{ dbt.type_bigint() }}) as status_events,
    cast(sum(case when events.is_parsed then 0 else 1 end) as {{ dbt.type_bigint() }}) as unparsed_status_events
from events
left join delivery_statuses
    on events.status = delivery_statuses.delivery_status
group by events.message_id
