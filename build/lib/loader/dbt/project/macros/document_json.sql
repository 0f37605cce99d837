{#- JSON helpers for the document sources (leads, HueChat, Texter), dispatched per adapter.
    `expr` is a JSON (or JSON text) object; `path` a dotted path below the root (`contact.phone`). -#}

{#- A JSON array of scalars at `path` as a list of strings; null when missing or not an array. -#}
{% macro json_string_list(expr, path) -%}
    {{ return(adapter.dispatch('json_string_list', 'hatch_analytics')(expr, path)) }}
{%- endmacro %}

{% macro default__json_string_list(expr, path) -%}
    from_json(get_json_object({{ expr }}, '$.{{ path }}'), 'array<string>')
{%- endmacro %}

{% macro duckdb__json_string_list(expr, path) -%}
    case when json_type({{ expr }}, '$.{{ path }}') = 'ARRAY'
        then cast(json_extract_string({{ expr }}, '$.{{ path }}[*]') as varchar[]) end
{%- endmacro %}

{#- The JSON text of the value at `path` (objects and arrays kept as JSON); null when missing. -#}
{% macro json_value_text(expr, path) -%}
    {{ return(adapter.dispatch('json_value_text', 'hatch_analytics')(expr, path)) }}
{%- endmacro %}

{% macro default__json_value_text(expr, path) -%}
    get_json_object({{ expr }}, '$.{{ path }}')
{%- endmacro %}

{% macro duckdb__json_value_text(expr, path) -%}
    case when json_type({{ expr }}, '$.{{ path }}') not in ('NULL') then cast(json_extract({{ expr }}, '$.{{ path }}') as varchar) end
{%- endmacro %}

{#- An empty string -> string map, typed. -#}
{% macro empty_string_map() -%}
    {{ return(adapter.dispatch('empty_string_map', 'hatch_analytics')()) }}
{%- endmacro %}

{% macro default__empty_string_map() -%}
    cast(map() as map<string, string>)
{%- endmacro %}

{% macro duckdb__empty_string_map() -%}
    cast(map() as map(varchar, varchar))
{%- endmacro %}

{#- A `select` of `key_columns` plus `properties`: every leaf of the JSON object in `json_column`
    whose top-level key is not in `exclude_keys`, as a key -> string map. Nested keys are joined
    with `__` (array positions are 0-based keys: `tags__0`), as Hatch flattens custom properties;
    JSON null leaves map to null. Rows without such leaves give no row (left join, then
    `coalesce(properties, empty_string_map())`). -#}
{% macro json_flatten_properties(relation, key_columns, json_column, exclude_keys) -%}
    {{ return(adapter.dispatch('json_flatten_properties', 'hatch_analytics')(relation, key_columns, json_column, exclude_keys)) }}
{%- endmacro %}

{% macro default__json_flatten_properties(relation, key_columns, json_column, exclude_keys) -%}
    {{ exceptions.raise_compiler_error("json_flatten_properties is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- Spark: the JSON is walked with a recursive CTE (Spark 4.1+): objects and arrays are read as
    string maps (array positions as keys) until only leaves are left. -#}
{% macro spark__json_flatten_properties(relation, key_columns, json_column, exclude_keys) -%}
    {%- set is_container -%}
        coalesce((left(ltrim(nodes.node), 1) = '{' and from_json(nodes.node, 'map<string,string>') is not null)
            or (left(ltrim(nodes.node), 1) = '[' and from_json(nodes.node, 'array<string>') is not null), false)
    {%- endset -%}
    with recursive nodes ({{ key_columns | join(', ') }}, flat_key, top_key, node) as (
        select
            {%- for column in key_columns %}
            source_rows.{{ column }},
            {%- endfor %}
            entries.key,
            entries.key,
            entries.value
        from {{ relation }} as source_rows
        lateral view explode(from_json(source_rows.{{ json_column }}, 'map<string,string>')) entries as key, value
        union all
        select
            {%- for column in key_columns %}
            nodes.{{ column }},
            {%- endfor %}
            concat(nodes.flat_key, '__', children.key),
            nodes.top_key,
            children.value
        from nodes
        lateral view explode(coalesce(
            case when left(ltrim(nodes.node), 1) = '{' then from_json(nodes.node, 'map<string,string>') end,
            case when left(ltrim(nodes.node), 1) = '[' then map_from_entries(transform(
                from_json(nodes.node, 'array<string>'), (v, i) -> struct(cast(i as string) as key, v as value)
            )) end
        )) children as key, value
    )
    select
        {%- for column in key_columns %}
        nodes.{{ column }},
        {%- endfor %}
        map_from_entries(collect_list(struct(nodes.flat_key, nodes.node))) as properties
    from nodes
    where not {{ is_container }}
        and nodes.top_key not in (
        {%- for key in exclude_keys %}'{{ key }}'{{ ", " if not loop.last }}{% endfor -%}
    )
    group by
        {%- for column in key_columns %}
        nodes.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{% macro duckdb__json_flatten_properties(relation, key_columns, json_column, exclude_keys) -%}
    select
        {%- for column in key_columns %}
        flattened.{{ column }},
        {%- endfor %}
        map_from_entries(list(struct_pack(k := flattened.flat_key, v := flattened.flat_value) order by flattened.leaf_id)) as properties
    from (
        select
            {%- for column in key_columns %}
            source_rows.{{ column }},
            {%- endfor %}
            leaves.id as leaf_id,
            replace(
                regexp_replace(regexp_replace(substr(leaves.fullkey, 3), '\[(\d+)\]', '.\1', 'g'), '"', '', 'g'),
                '.', '__'
            ) as flat_key,
            trim(regexp_extract(leaves.fullkey, '^\$\.("[^"]*"|[^.\[]*)', 1), '"') as top_key,
            case when leaves.type <> 'NULL' then json_extract_string(leaves.value, '$') end as flat_value
        from {{ relation }} as source_rows,
            json_tree(source_rows.{{ json_column }}) as leaves
        where leaves.type not in ('OBJECT', 'ARRAY')
            and leaves.fullkey <> '$'
    ) as flattened
    where flattened.top_key not in (
        {%- for key in exclude_keys %}'{{ key }}'{{ ", " if not loop.last }}{% endfor -%}
    )
    group by
        {%- for column in key_columns %}
        flattened.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#- The data type of a list of strings (labels). -#}
{% macro type_string_array() -%}
    {{ return(adapter.dispatch('type_string_array', 'hatch_analytics')()) }}
{%- endmacro %}

{% macro default__type_string_array() -%}
    array<string>
{%- endmacro %}

{% macro duckdb__type_string_array() -%}
    varchar[]
{%- endmacro %}
