{#- Reading Hatch `status_history` (format undocumented; expected a JSON array of objects with a
    status and a time). Key names are tolerated in several spellings; the first present wins. -#}

{#- The status text of one entry (a JSON object held as text); null when absent. -#}
{% macro hatch_status_entry_status(entry_text) -%}
    coalesce(
        {%- for key in ['status', 'state', 'event', 'name'] %}
        {{ hatch_analytics.json_extract_text(entry_text, key) }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- The time text of one entry; null when absent. -#}
{% macro hatch_status_entry_time_text(entry_text) -%}
    coalesce(
        {%- for key in ['at', 'timestamp', 'time', 'occurred_at', 'created_at', 'updated_at', 'date'] %}
        {{ hatch_analytics.json_extract_text(entry_text, key) }}{{ "," if not loop.last }}
        {%- endfor %}
    )
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

{% macro duckdb__hatch_status_history_first_at(expr) -%}
    (
        select min({{ hatch_analytics.to_utc_timestamp(hatch_analytics.hatch_status_entry_time_text('cast(history_entries.value as varchar)')) }})
        from json_each(
            case when {{ hatch_analytics.is_json_array(expr) }} then {{ expr }} else '[]' end
        ) as history_entries
    )
{%- endmacro %}
