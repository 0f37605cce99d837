{#- Reconciliation: the model's `column_name` values and `compare_model`'s `compare_column` values
    are the same multiset (nothing lost, nothing invented, nothing doubled). Compared by count and
    by a sum of per-value hashes (macro `hash_sum`): one pass over each side, where listing the
    differing values needs a sort or hash of both. Fails with one row giving both sides' counts;
    find the values with `select ... except all select ...`. -#}
{% test same_values_as(model, column_name, compare_model, compare_column) %}

with model_side as (

    select count(*) as value_count, {{ hash_sum(column_name) }} as value_hash
    from {{ model }}

),

compare_side as (

    select count(*) as value_count, {{ hash_sum(compare_column) }} as value_hash
    from {{ compare_model }}

)

select
    model_side.value_count as model_values,
    compare_side.value_count as compare_model_values
from model_side
cross join compare_side
where model_side.value_count <> compare_side.value_count
    or model_side.value_hash <> compare_side.value_hash

{% endtest %}
