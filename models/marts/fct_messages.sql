{#- One row per message with its delivery outcome. Incremental: each run re-reads the messages of the
    batch of `message_batch_filter` (loaded since the newest load in the table, or updated within
    `message_lookback_days` of its newest update) and replaces them by message_id (delete+insert). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
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
        chatbot_disposition,
        send_at,
        is_scheduled,
        provider_name,
        provider_message_id,
        message_at,
        updated_at,
        _loaded_at
    from {{ ref('int_hatch__messages') }}
    where {{ message_batch_filter() }}

),

status_timings as (

    select
        message_id,
        first_sent_at,
        first_delivered_at,
        status_events,
        unparsed_status_events
    from {{ ref('int_hatch__message_status_timings') }}
    {% if is_incremental() %}
    where message_id in (select message_id from messages)
    {%- if var('message_lookback_days') | int == 0 %}
        {#- a message's timings row has the message's `_loaded_at`, so the batch's rows are the
            ones loaded after the anchor too: the constant lets the scan skip the older row groups
            instead of probing five million ids (with a lookback the batch has older loads) -#}
        and {{ message_batch_filter() }}
    {%- endif %}
    {% endif %}

),

delivery_statuses as (

    select
        delivery_status,
        delivery_outcome,
        is_final
    from {{ ref('hatch_delivery_statuses') }}

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
    cast(coalesce(status_timings.status_events, 0) as {{ dbt.type_bigint() }}) as status_events,
    coalesce(status_timings.unparsed_status_events, 0) > 0 as has_unparsed_status_history,
    messages.updated_at,
    messages._loaded_at
from messages
left join delivery_statuses
    on messages.delivery_status = delivery_statuses.delivery_status
left join status_timings
    on messages.message_id = status_timings.message_id
