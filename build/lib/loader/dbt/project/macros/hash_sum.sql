{#- An aggregate: the sum of a 64-bit hash of each value of `expr` (nulls count as one value), as an
    exact decimal, so two columns holding the same multiset of values give the same sum. -#}
{% macro hash_sum(expr) -%}
    {{ return(adapter.dispatch('hash_sum', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__hash_sum(expr) -%}
    sum(cast(xxhash64(coalesce(cast({{ expr }} as {{ dbt.type_string() }}), '<null>')) as decimal(38, 0)))
{%- endmacro %}

{% macro duckdb__hash_sum(expr) -%}
    sum(hash(coalesce(cast({{ expr }} as varchar), '<null>'))::hugeint)
{%- endmacro %}
