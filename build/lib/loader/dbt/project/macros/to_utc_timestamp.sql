{#- A TIMESTAMPTZ, or ISO 8601 text ('T' or space, optional fractions, optional offset 'Z' / '+hh' /
    '+hh:mm'), as a TIMESTAMP without time zone in UTC. Naive text is read as UTC (the session time
    zone is UTC, see profiles.yml). Text that does not parse, and empty text, give null. -#}
{% macro to_utc_timestamp(expr) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expr) -%}
    to_utc_timestamp(cast(nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), '') as {{ dbt.type_timestamp() }}), 'UTC')
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expr) -%}
    timezone('UTC', try_cast(nullif(trim(cast({{ expr }} as varchar)), '') as timestamptz))
{%- endmacro %}
