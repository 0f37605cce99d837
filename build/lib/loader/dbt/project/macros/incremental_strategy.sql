{#- The incremental strategy of every incremental model, chosen per adapter here and only here:
    DuckDB replaces the rows of the batch's keys (delete+insert on `unique_key`). -#}
{% macro hatch_incremental_strategy() -%}
    {{ return(adapter.dispatch('hatch_incremental_strategy', 'hatch_analytics')()) }}
{%- endmacro %}

{% macro default__hatch_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
