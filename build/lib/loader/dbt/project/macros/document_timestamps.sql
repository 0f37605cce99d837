{#- Timestamp parsing for the document sources. Every macro gives a TIMESTAMP (no time zone) in
    UTC, like `to_utc_timestamp`, or null when the value is missing or does not parse. -#}

{#- Hatch Standard API lead timestamps (`createdAt` / `updatedAt`), text in any of:
    RFC 3339 (`2020-01-02T15:04:05Z`, `...+07:00`, fractions), Go's `2020-01-02T15:04:05-0700`
    (`±hhmm`, also with a space, and `±hh`), `YYYY-MM-DD HH:MM:SS` (naive = UTC, optional `Z`),
    `YYYY-MM-DD`, RFC 1123 / RFC 822 with a numeric zone (`Mon, 02 Jan 2006 15:04:05 -0700`, the
    weekday optional), and epoch seconds (10 digits) or milliseconds (13 digits). -#}
{% macro parse_lead_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_lead_timestamp', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__parse_lead_timestamp(expr) -%}
    {{ hatch_analytics.to_utc_timestamp(expr) }}
{%- endmacro %}

{% macro duckdb__parse_lead_timestamp(expr) -%}
    {%- set text = "nullif(trim(cast(" ~ expr ~ " as varchar)), '')" -%}
    timezone('UTC', coalesce(
        case when not regexp_matches({{ text }}, '^\d+$') then try_cast({{ text }} as timestamptz) end,
        try_strptime({{ text }}, ['%Y-%m-%d %H:%M:%S %z', '%Y-%m-%d %H:%M:%S.%f %z', '%a, %d %b %Y %H:%M:%S %z', '%d %b %Y %H:%M:%S %z', '%a, %d %b %Y %H:%M %z', '%d %b %Y %H:%M %z']),
        case when regexp_matches({{ text }}, '^\d{13}$') then to_timestamp(cast({{ text }} as bigint) / 1000.0)
             when regexp_matches({{ text }}, '^\d{10}$') then to_timestamp(cast({{ text }} as bigint)) end
    ))
{%- endmacro %}

{#- Spark (session time zone UTC): ISO forms through a cast (offsets `±hh:mm` and `±hhmm` made
    `±hh:mm` first), RFC 1123 without its weekday (Spark's parser rejects `EEE`), epoch digits. -#}
{% macro spark__parse_lead_timestamp(expr) -%}
    {%- set text = "nullif(trim(cast(" ~ expr ~ " as string)), '')" -%}
    {%- set iso = "regexp_replace(" ~ text ~ ", ' *([+-][0-9]{2}):?([0-9]{2})$', '$1:$2')" -%}
    {%- set rfc = "regexp_replace(" ~ text ~ ", '^[A-Za-z]{3}, *', '')" -%}
    coalesce(
        case when not {{ text }} rlike '^[0-9]+$' then try_cast({{ iso }} as timestamp) end,
        try_to_timestamp({{ rfc }}, 'd MMM yyyy HH:mm:ss Z'),
        try_to_timestamp({{ rfc }}, 'd MMM yyyy HH:mm Z'),
        case when {{ text }} rlike '^[0-9]{13}$' then timestamp_millis(cast({{ text }} as bigint))
             when {{ text }} rlike '^[0-9]{10}$' then timestamp_seconds(cast({{ text }} as bigint)) end
    )
{%- endmacro %}

{#- Epoch milliseconds (number or numeric text) -> UTC timestamp. -#}
{% macro epoch_ms_to_timestamp(expr) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_timestamp(expr) -%}
    timestamp_millis(cast({{ expr }} as bigint))
{%- endmacro %}

{% macro duckdb__epoch_ms_to_timestamp(expr) -%}
    timezone('UTC', to_timestamp(try_cast({{ expr }} as double) / 1000.0))
{%- endmacro %}

{#- Epoch seconds (number or numeric text) -> UTC timestamp. -#}
{% macro epoch_s_to_timestamp(expr) -%}
    {{ return(adapter.dispatch('epoch_s_to_timestamp', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__epoch_s_to_timestamp(expr) -%}
    timestamp_seconds(cast({{ expr }} as bigint))
{%- endmacro %}

{% macro duckdb__epoch_s_to_timestamp(expr) -%}
    timezone('UTC', to_timestamp(try_cast({{ expr }} as double)))
{%- endmacro %}

{#- A Texter chat time field, converted by the field's naming rule (Texter docs): names ending in
    `Timestamp` / `_timestamp` are epoch milliseconds, `UpdateTime` / `MessageTime` (and
    `replyAction.created`) epoch seconds, anything else (`created`, `updatedAt`, `unsubscribed.date`)
    ISO 8601 text. `path` is the field's dotted path in the JSON `expr`. -#}
{% macro texter_time(expr, path) -%}
    {%- set value = hatch_analytics.json_extract_text(expr, path) -%}
    {%- set name = path.split('.')[-1] -%}
    {%- if name.endswith('Timestamp') or name.endswith('_timestamp') -%}
        {{ hatch_analytics.epoch_ms_to_timestamp(value) }}
    {%- elif name.endswith('UpdateTime') or name.endswith('MessageTime') or name == 'unsubscribeTime' or path == 'replyAction.created' -%}
        {{ hatch_analytics.epoch_s_to_timestamp(value) }}
    {%- else -%}
        {{ hatch_analytics.to_utc_timestamp(value) }}
    {%- endif -%}
{%- endmacro %}

{#- The `fraction` percentile (continuous) of a numeric expression, as an aggregate. -#}
{% macro percentile_cont_agg(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont_agg', 'hatch_analytics')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont_agg(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__percentile_cont_agg(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont_agg(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}
