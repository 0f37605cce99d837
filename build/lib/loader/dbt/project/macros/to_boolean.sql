{#- Booleans as exports give them: true/false (any case), t/f, 1/0, yes/no, y/n, or a boolean.
    Anything else (including empty) -> null. Works on text and on boolean input. -#}
{% macro to_boolean(expr) -%}
    case lower(trim(cast({{ expr }} as {{ dbt.type_string() }})))
        when 'true' then true
        when 't' then true
        when '1' then true
        when 'yes' then true
        when 'y' then true
        when 'false' then false
        when 'f' then false
        when '0' then false
        when 'no' then false
        when 'n' then false
    end
{%- endmacro %}
