{#- Phone numbers to a comparable form. Keeps digits only, then:
    the original starts with '+'       -> '+' || digits (already international);
    10 digits                          -> '+1' || digits (North American number);
    11 digits starting with 1          -> '+' || digits;
    otherwise                          -> the digits, no plus; no digits -> null. -#}
{% macro normalize_phone(expr) -%}
    {%- set digits = hatch_analytics.digits_only(expr) -%}
    case
        when {{ digits }} is null or {{ digits }} = '' then null
        when trim({{ expr }}) like '+%' then {{ dbt.concat(["'+'", digits]) }}
        when {{ dbt.length(digits) }} = 10 then {{ dbt.concat(["'+1'", digits]) }}
        when {{ dbt.length(digits) }} = 11 and {{ digits }} like '1%' then {{ dbt.concat(["'+'", digits]) }}
        else {{ digits }}
    end
{%- endmacro %}

{#- The digits of a string, every other character removed. -#}
{% macro digits_only(expr) -%}
    {{ return(adapter.dispatch('digits_only', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__digits_only(expr) -%}
    regexp_replace(cast({{ expr }} as {{ dbt.type_string() }}), '[^0-9]', '')
{%- endmacro %}

{% macro duckdb__digits_only(expr) -%}
    regexp_replace(cast({{ expr }} as {{ dbt.type_string() }}), '[^0-9]', '', 'g')
{%- endmacro %}
