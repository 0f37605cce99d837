{#- The listed columns of the model hold no null: one scan for all of them, where a `not_null` test
    per column scans once per column and costs dbt a node each (compile, run, report). Fails with
    one row per column that has nulls, with how many. -#}
{% test not_null_columns(model, column_names) %}

with null_counts as (

    select
        {%- for column in column_names %}
        sum(case when {{ adapter.quote(column) }} is null then 1 else 0 end) as {{ adapter.quote('nulls_' ~ loop.index) }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

)

{% for column in column_names -%}
select
    cast('{{ column }}' as {{ dbt.type_string() }}) as column_name,
    {{ adapter.quote('nulls_' ~ loop.index) }} as null_rows
from null_counts
where {{ adapter.quote('nulls_' ~ loop.index) }} > 0
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}

{% endtest %}
