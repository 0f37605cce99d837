{#- Reconciliation: the set of `column_name` values in the model equals the set of
    `compare_column` values in `compare_model`, both ways (nothing lost, nothing invented). -#}
{% test same_values_as(model, column_name, compare_model, compare_column) %}

with model_values as (
    select distinct {{ column_name }} as key_value from {{ model }}
),

compare_values as (
    select distinct {{ compare_column }} as key_value from {{ compare_model }}
),

only_in_model as (
    select key_value from model_values
    except
    select key_value from compare_values
),

only_in_compare as (
    select key_value from compare_values
    except
    select key_value from model_values
)

select 'only in model' as side, key_value from only_in_model
union all
select 'only in compare model' as side, key_value from only_in_compare

{% endtest %}
