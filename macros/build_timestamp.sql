{#- When this dbt invocation started (UTC), as a timestamp: the `_built_at` of the rows a model
    writes, one value per build (see test_scope.sql). -#}
{% macro build_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
