{#- One row per message date, organization, workspace, direction, category and provider.
    Rebuilt as a table from the incremental fct_messages on every run: a re-exported message can
    move to another date or outcome, and only a full aggregate removes it from its old group. -#}
with messages as (

    select
        message_date,
        organization_id,
        workspace_id,
        direction,
        category,
        provider_name,
        delivery_outcome,
        is_final_status,
        seconds_to_deliver
    from {{ ref('fct_messages') }}

),

aggregated as (

    select
        message_date,
        organization_id,
        workspace_id,
        direction,
        category,
        provider_name,
        count(*) as messages,
        sum(case when delivery_outcome = 'delivered' then 1 else 0 end) as delivered_messages,
        sum(case when delivery_outcome = 'failed' then 1 else 0 end) as failed_messages,
        sum(case when delivery_outcome = 'pending' then 1 else 0 end) as pending_messages,
        sum(case when delivery_outcome = 'received' then 1 else 0 end) as received_messages,
        sum(case when delivery_outcome = 'unknown' then 1 else 0 end) as unknown_status_messages,
        sum(case when direction = 'outbound' and is_final_status then 1 else 0 end) as outbound_final_messages,
        sum(
            case when direction = 'outbound' and is_final_status and delivery_outcome = 'delivered' then 1 else 0 end
        ) as outbound_delivered_messages,
        count(seconds_to_deliver) as messages_with_delivery_time,
        {{ median('seconds_to_deliver') }} as median_seconds_to_deliver
    from messages
    group by message_date, organization_id, workspace_id, direction, category, provider_name

)

select
    message_date,
    organization_id,
    workspace_id,
    direction,
    category,
    provider_name,
    cast(messages as {{ dbt.type_bigint() }}) as messages,
    cast(delivered_messages as {{ dbt.type_bigint() }}) as delivered_messages,
    cast(failed_messages as {{ dbt.type_bigint() }}) as failed_messages,
    cast(pending_messages as {{ dbt.type_bigint() }}) as pending_messages,
    cast(received_messages as {{ dbt.type_bigint() }}) as received_messages,
    cast(unknown_status_messages as {{ dbt.type_bigint() }}) as unknown_status_messages,
    cast(outbound_final_messages as {{ dbt.type_bigint() }}) as outbound_final_messages,
    cast(outbound_delivered_messages as double)
        / nullif(outbound_final_messages, 0) as delivery_rate,
    cast(messages_with_delivery_time as {{ dbt.type_bigint() }}) as messages_with_delivery_time,
    cast(median_seconds_to_deliver as double) as median_seconds_to_deliver
from aggregated
