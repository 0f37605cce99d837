{#- JSON helpers, dispatched per adapter. The JSON arrives as text. -#}

{#- The text value of `key` in a JSON object held as text; null when missing or not an object. -#}
{% macro json_extract_text(expr, key) -%}
    {{ return(adapter.dispatch('json_extract_text', 'hatch_analytics')(expr, key)) }}
{%- endmacro %}

{% macro default__json_extract_text(expr, key) -%}
    get_json_object({{ expr }}, '$.{{ key }}')
{%- endmacro %}

{% macro duckdb__json_extract_text(expr, key) -%}
    case when coalesce(json_valid({{ expr }}), false)
        then case when json_type({{ expr }}) = 'OBJECT' then json_extract_string({{ expr }}, '$.{{ key }}') end
    end
{%- endmacro %}

{#- Is the text a JSON array? -#}
{% macro is_json_array(expr) -%}
    {{ return(adapter.dispatch('is_json_array', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__is_json_array(expr) -%}
    coalesce(from_json({{ expr }}, 'array<string>') is not null and trim({{ expr }}) like '[%', false)
{%- endmacro %}

{% macro duckdb__is_json_array(expr) -%}
    case when coalesce(json_valid({{ expr }}), false) then json_type({{ expr }}) = 'ARRAY' else false end
{%- endmacro %}

{#- A `select` over `relation` with `columns` plus one row per element of the JSON array in
    `json_column`: `entry_index` (1-based) and `entry_text` (the element as JSON text). Rows whose
    value is not a JSON array give no rows here. -#}
{% macro explode_json_array(relation, columns, json_column) -%}
    {{ return(adapter.dispatch('explode_json_array', 'hatch_analytics')(relation, columns, json_column)) }}
{%- endmacro %}

{% macro default__explode_json_array(relation, columns, json_column) -%}
    select
        {%- for column in columns %}
        source_rows.{{ column }},
        {%- endfor %}
        entries.pos + 1 as entry_index,
        entries.entry_text
    from {{ relation }} as source_rows
    lateral view posexplode(from_json(source_rows.{{ json_column }}, 'array<string>')) entries as pos, entry_text
    where {{ hatch_analytics.is_json_array('source_rows.' ~ json_column) }}
{%- endmacro %}

{% macro duckdb__explode_json_array(relation, columns, json_column) -%}
    select
        {%- for column in columns %}
        source_rows.{{ column }},
        {%- endfor %}
        cast(entries.key as bigint) + 1 as entry_index,
        cast(entries.value as varchar) as entry_text
    from {{ relation }} as source_rows,
        json_each(
            case when {{ hatch_analytics.is_json_array('source_rows.' ~ json_column) }}
                then source_rows.{{ json_column }} else '[]' end
        ) as entries
{%- endmacro %}
