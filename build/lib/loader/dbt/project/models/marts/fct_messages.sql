{#- One row per message with its delivery outcome and status timings. Incremental: a run re-reads
    the messages loaded since the newest load in this table and replaces them. -#}
{{
    config(
        materialized=hatch_incremental_materialization(),
        incremental_strategy=hatch_incremental_strategy(),
        unique_key='message_id',
        on_schema_change='append_new_columns'
    )
}}

with messages as (

    select
        message_id,
        conversation_id,
        contact_id,
        organization_id,
        workspace_id,
        actor_type,
        actor_id,
        category,
        message_type,
        direction,
        direction_raw,
        delivery_status,
        delivery_status_raw,
        status_history_raw,
        chatbot_disposition,
        send_at,
        is_scheduled,
        provider_name,
        provider_message_id,
        mongo_id,
        message_at,
        updated_at,
        _loaded_at
    from {{ ref('int_hatch__messages') }}
    {%- if is_incremental() %}
    where _loaded_at > (select max(_loaded_at) from {{ this }})
    {%- endif %}

),

delivery_statuses as (

    select
        delivery_status,
        delivery_outcome,
        is_final,
        is_send_event
    from {{ ref('hatch_delivery_statuses') }}

),

status_histories as (

    select message_id, status_history_raw
    from messages
    where status_history_raw is not null

),

entries as (

    {#- the entries of each history, parsed as in stg_hatch__message_status_events, from the
        version of the message this row holds -#}
    {{ explode_json_array('status_histories', ['message_id'], 'status_history_raw') }}

),

status_events as (

    select
        message_id,
        lower({{ empty_to_null(hatch_status_entry_status('entry_text')) }}) as status,
        {{ to_utc_timestamp(empty_to_null(hatch_status_entry_time_text('entry_text'))) }} as event_at
    from entries

),

status_timings as (

    select
        status_events.message_id,
        min(case when event_statuses.is_send_event then status_events.event_at end) as first_sent_at,
        min(case when event_statuses.delivery_outcome = 'delivered' then status_events.event_at end) as first_delivered_at,
        cast(count(*) as {{ dbt.type_bigint() }}) as status_events,
        cast(sum(case when status_events.status is not null and status_events.event_at is not null then 0 else 1 end) as {{ dbt.type_bigint() }}) as unparsed_status_events
    from status_events
    left join delivery_statuses as event_statuses
        on status_events.status = event_statuses.delivery_status
    group by status_events.message_id

),

unparsed_histories as (

    select message_id
    from status_histories
    where not {{ is_json_array('status_history_raw') }}

)

select
    messages.message_id,
    messages.conversation_id,
    messages.contact_id,
    messages.organization_id,
    messages.workspace_id,
    messages.actor_type,
    messages.actor_id,
    messages.category,
    messages.message_type,
    messages.direction,
    messages.direction_raw,
    messages.delivery_status,
    messages.delivery_status_raw,
    coalesce(delivery_statuses.delivery_outcome, 'unknown') as delivery_outcome,
    coalesce(delivery_statuses.is_final, false) as is_final_status,
    (delivery_statuses.delivery_status is not null) as is_known_status,
    messages.provider_name,
    messages.provider_message_id,
    messages.mongo_id,
    messages.chatbot_disposition,
    messages.is_scheduled,
    messages.send_at,
    messages.message_at,
    cast(messages.message_at as date) as message_date,
    status_timings.first_sent_at,
    status_timings.first_delivered_at,
    case
        when status_timings.first_delivered_at >= status_timings.first_sent_at
            then cast({{ dbt.datediff('status_timings.first_sent_at', 'status_timings.first_delivered_at', 'second') }} as {{ dbt.type_bigint() }})
    end as seconds_to_deliver,
    cast(
        coalesce(status_timings.status_events, 0)
        + case when unparsed_histories.message_id is not null then 1 else 0 end
        as {{ dbt.type_bigint() }}
    ) as status_events,
    (
        coalesce(status_timings.unparsed_status_events, 0) > 0
        or unparsed_histories.message_id is not null
    ) as has_unparsed_status_history,
    messages.updated_at,
    messages._loaded_at
from messages
left join delivery_statuses
    on messages.delivery_status = delivery_statuses.delivery_status
left join status_timings
    on messages.message_id = status_timings.message_id
left join unparsed_histories
    on messages.message_id = unparsed_histories.message_id
