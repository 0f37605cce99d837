{#- One row per day for MetricFlow (dbt semantic layer). A view: nothing is stored. -#}
{{ config(materialized='view', schema='intermediate') }}

with days as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('2015-01-01' as date)",
        end_date="cast('2036-01-01' as date)"
    ) }}
)

select cast(date_day as date) as date_day
from days
