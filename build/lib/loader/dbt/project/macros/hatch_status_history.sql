{#- Reading Hatch `status_history` (format undocumented; expected a JSON array of objects with a
    status and a time). Key names are tolerated in several spellings; the first present wins. -#}


{#- The key spellings, in order of preference (one list for every adapter). -#}
{% macro hatch_status_entry_keys(kind) -%}
    {%- if kind == 'status' -%}
        {{ return(['status', 'state', 'event', 'name']) }}
    {%- else -%}
        {{ return(['at', 'timestamp', 'time', 'occurred_at', 'created_at', 'updated_at', 'date']) }}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB: the JSON schema of one entry with the given keys, every value read as text (numbers,
    booleans and nested values come back as their JSON text, as json_extract_string gives them). -#}
{% macro hatch_status_entry_schema(keys) -%}
    {%- set fields = [] -%}
    {%- for key in keys -%}
        {%- do fields.append('"' ~ key ~ '":"VARCHAR"') -%}
    {%- endfor -%}
    {{- '{' ~ fields | join(',') ~ '}' -}}
{%- endmacro %}

{#- The first non-null field of a parsed entry struct, in key order. -#}
{% macro hatch_status_entry_coalesce(struct_expr, keys) -%}
    coalesce(
        {%- for key in keys %}
        ({{ struct_expr }})."{{ key }}"{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- The status text of one entry (a JSON object held as text); null when absent. -#}
{% macro hatch_status_entry_status(entry_text) -%}
    {{ return(adapter.dispatch('hatch_status_entry_field', 'hatch_analytics')(entry_text, hatch_analytics.hatch_status_entry_keys('status'))) }}
{%- endmacro %}

{#- The time text of one entry; null when absent. -#}
{% macro hatch_status_entry_time_text(entry_text) -%}
    {{ return(adapter.dispatch('hatch_status_entry_field', 'hatch_analytics')(entry_text, hatch_analytics.hatch_status_entry_keys('time'))) }}
{%- endmacro %}

{% macro default__hatch_status_entry_field(entry_text, keys) -%}
    coalesce(
        {%- for key in keys %}
        {{ hatch_analytics.json_extract_text(entry_text, key) }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- DuckDB: one parse of the entry into a struct of the wanted keys instead of a json_valid /
    json_type / json_extract_string per key. A non-object entry gives null fields, as before. -#}
{% macro duckdb__hatch_status_entry_field(entry_text, keys) -%}
    case when coalesce(json_valid({{ entry_text }}), false) then
        list_transform(
            [from_json({{ entry_text }}, '{{ hatch_analytics.hatch_status_entry_schema(keys) }}')],
            parsed_entry -> {{ hatch_analytics.hatch_status_entry_coalesce('parsed_entry', keys) }}
        )[1]
    end
{%- endmacro %}

{#- The earliest parseable entry time of a status history (text), as a UTC timestamp; null when
    the history is empty, not a JSON array, or has no parseable time. A scalar expression. -#}
{% macro hatch_status_history_first_at(expr) -%}
    {{ return(adapter.dispatch('hatch_status_history_first_at', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__hatch_status_history_first_at(expr) -%}
    array_min(transform(
        from_json(case when {{ hatch_analytics.is_json_array(expr) }} then {{ expr }} end, 'array<string>'),
        entry -> {{ hatch_analytics.to_utc_timestamp(hatch_analytics.hatch_status_entry_time_text('entry')) }}
    ))
{%- endmacro %}

{#- DuckDB: the history parsed once into a list of structs (time keys only) and reduced with a list
    lambda; the former correlated json_each subquery re-parsed every entry once per key (~7x slower). -#}
{% macro duckdb__hatch_status_history_first_at(expr) -%}
    {%- set keys = hatch_analytics.hatch_status_entry_keys('time') -%}
    list_min(list_transform(
        from_json(
            case when {{ hatch_analytics.is_json_array(expr) }} then {{ expr }} end,
            '[{{ hatch_analytics.hatch_status_entry_schema(keys) }}]'
        ),
        history_entry -> {{ hatch_analytics.to_utc_timestamp(hatch_analytics.hatch_status_entry_coalesce('history_entry', keys)) }}
    ))
{%- endmacro %}
