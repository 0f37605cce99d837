{#- Speed to lead rolled up by lead source and matched campaign (campaign null: leads with no
    Hatch match). Percentiles are over touched leads only. -#}
with leads as (

    select * from {{ ref('fct_speed_to_lead') }}

)

select
    cast(lead_source as {{ dbt.type_string() }}) as lead_source,
    cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(max(campaign_name) as {{ dbt.type_string() }}) as campaign_name,
    cast(count(*) as {{ dbt.type_bigint() }}) as lead_count,
    cast(sum(case when is_matched then 1 else 0 end) as {{ dbt.type_bigint() }}) as matched_lead_count,
    cast(sum(case when is_touched then 1 else 0 end) as {{ dbt.type_bigint() }}) as touched_lead_count,
    cast(sum(case when has_reply then 1 else 0 end) as {{ dbt.type_bigint() }}) as replied_lead_count,
    cast(sum(case when is_touched then 1 else 0 end) * 1.0 / count(*) as double) as share_touched,
    cast({{ median('seconds_to_first_touch') }} as double) as median_seconds_to_first_touch,
    cast({{ percentile_cont_agg('seconds_to_first_touch', 0.9) }} as double) as p90_seconds_to_first_touch
from leads
group by lead_source, campaign_id
