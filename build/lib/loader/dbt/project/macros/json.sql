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

{#- DuckDB: the history is parsed once into a list of JSON values (`from_json(x, '["json"]')`) and
    unnested with its positions; json_each per row was several times slower. A JSON `null` element
    comes back as SQL null and is kept as the text 'null', as json_each gave it. -#}
{% macro duckdb__explode_json_array(relation, columns, json_column) -%}
    select
        {%- for column in columns %}
        source_rows.{{ column }},
        {%- endfor %}
        cast(source_rows.entry_index as bigint) as entry_index,
        coalesce(cast(source_rows.entry_json as varchar), 'null') as entry_text
    from (
        select
            {%- for column in columns %}
            arrays.{{ column }},
            {%- endfor %}
            unnest(range(1, len(arrays.entries) + 1)) as entry_index,
            unnest(arrays.entries) as entry_json
        from (
            select
                {%- for column in columns %}
                parsed_rows.{{ column }},
                {%- endfor %}
                from_json(
                    case when {{ hatch_analytics.is_json_array('parsed_rows.' ~ json_column) }}
                        then parsed_rows.{{ json_column }} end,
                    '["json"]'
                ) as entries
            from {{ relation }} as parsed_rows
        ) as arrays
        where arrays.entries is not null
    ) as source_rows
{%- endmacro %}
