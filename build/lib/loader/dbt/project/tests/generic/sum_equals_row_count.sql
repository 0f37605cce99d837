{#- Reconciliation: the sum of `column_name` in the model equals the number of rows in
    `compare_model` (no row lost or doubled between layers). Fails with one row showing both. -#}
{% test sum_equals_row_count(model, column_name, compare_model) %}

with model_total as (
    select coalesce(sum({{ column_name }}), 0) as total from {{ model }}
),

compare_total as (
    select count(*) as total from {{ compare_model }}
)

select
    model_total.total as model_total,
    compare_total.total as compare_total
from model_total
cross join compare_total
where model_total.total <> compare_total.total

{% endtest %}
