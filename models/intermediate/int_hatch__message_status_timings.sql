{#- One row per message that has a status history: when it was first handed to the carrier,
    first delivered, and how many history entries parsed or did not. Incremental (delete+insert on
    message_id) from the status histories of int_hatch__messages: each run recomputes the messages in
    the batch of `message_batch_filter`; the post-hook drops messages whose newest version lost its
    history. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='message_id',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} where message_id in (select message_id from {{ ref('int_hatch__messages') }} where status_history_raw is null)"
        ]
    )
}}

{#- The entries are unpacked from int_hatch__messages with the SQL of stg_hatch__message_status_events
    (macro `hatch_status_events`); on an incremental run only the batch's histories. -#}
with events as (

    select
        message_id,
        status,
        event_at,
        is_parsed,
        _loaded_at
    from (
        {%- if is_incremental() %}
        {{ hatch_status_events(
            ref('int_hatch__messages'),
            message_filter=message_batch_filter(updated_at_anchor=ref('int_hatch__messages'))
        ) }}
        {%- else %}
        {{ hatch_status_events(ref('int_hatch__messages')) }}
        {%- endif %}
    ) as status_events

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
    cast(sum(case when events.is_parsed then 0 else 1 end) as {{ dbt.type_bigint() }}) as unparsed_status_events,
    max(events._loaded_at) as _loaded_at
from events
left join delivery_statuses
    on events.status = delivery_statuses.delivery_status
group by events.message_id
