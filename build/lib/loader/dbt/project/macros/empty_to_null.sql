{#- A text value with surrounding blanks removed; empty -> null. -#}
{% macro empty_to_null(expr) -%}
    nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), '')
{%- endmacro %}
