{#- The combination of `combination` columns is unique (nulls compare equal). On an incremental
    build of a large Hatch table (`test_batch_rows`) only the combinations of the rows that changed
    are counted, over the whole table: a duplicate that appears in a table unique before has a
    changed row, and the other rows are not regrouped. -#}
{% test unique_combination_of_columns(model, combination) %}
{%- set batch_rows = hatch_analytics.test_batch_rows(model) %}

{%- if batch_rows %}
with batch_combinations as (
    select distinct {{ combination | join(', ') }}
    from {{ model }}
    where {{ batch_rows }}
)

select
    {%- for column in combination %}
    model_rows.{{ column }},
    {%- endfor %}
    count(*) as duplicate_rows
from {{ model }} as model_rows
inner join batch_combinations
    on {% for column in combination -%}
    model_rows.{{ column }} is not distinct from batch_combinations.{{ column }}
    {%- if not loop.last %}
    and {% endif -%}
    {%- endfor %}
group by
    {%- for column in combination %}
    model_rows.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
having count(*) > 1
{%- else %}
select
    {{ combination | join(', ') }},
    count(*) as duplicate_rows
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{%- endif %}

{% endtest %}
