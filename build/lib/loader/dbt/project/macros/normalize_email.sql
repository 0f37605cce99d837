{#- E-mail addresses: trimmed, lower-cased; empty -> null. -#}
{% macro normalize_email(expr) -%}
    nullif(lower(trim(cast({{ expr }} as {{ dbt.type_string() }}))), '')
{%- endmacro %}
