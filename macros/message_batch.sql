{#- The incremental batch of the message models (int_hatch__messages, int_hatch__message_status_events,
    int_hatch__message_status_timings, fct_messages): a boolean condition on the candidate rows.

    On an incremental run a message is re-read when its chosen version
      - was loaded at or after the newest load already in `{{ this }}` (every new or changed message:
        a newer version always comes with a newer load, and the loader holds a single-writer lock, so
        loads are serialised), or
      - was updated within `message_lookback_days` of the newest `updated_at` in `updated_at_anchor`
        (the lookback: late or out-of-order loads of recent updates are re-read).
    The lookback runs on the data's own clock (`updated_at`) rather than on load times: when the whole
    history was loaded in one go (first deployment, a benchmark, a backfill) a load-time lookback
    would re-read every message on every run. Off an incremental run the condition is `true`.
    An empty `{{ this }}` re-reads everything, and so does a `{{ this }}` without a `_loaded_at` column
    (a table built before the model was incremental; the column is then added, on_schema_change). -#}
{% macro message_batch_filter(loaded_at_column='_loaded_at', updated_at_column='updated_at', updated_at_anchor=none) -%}
    {%- set has_anchor_columns = false -%}
    {%- if is_incremental() and execute -%}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- set has_anchor_columns = '_loaded_at' in existing
            and (updated_at_anchor is not none or 'updated_at' in existing) -%}
    {%- endif -%}
    {%- if is_incremental() and has_anchor_columns -%}
    (
        {{ loaded_at_column }} >= (
            select coalesce(max(_loaded_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
            from {{ this }}
        )
        or {{ updated_at_column }} >= (
            select {{ dbt.dateadd('day', -1 * var('message_lookback_days'), 'max(updated_at)') }}
            from {{ updated_at_anchor if updated_at_anchor is not none else this }}
        )
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- The message ids with a raw `hatch_conversation_items` row in the batch of `message_batch_filter`
    (for `int_hatch__messages`, whose `{{ this }}` anchors it): a superset of the ids whose chosen
    version is in the batch, since the chosen version is one of the message's raw rows. -#}
{% macro hatch_raw_message_batch_ids() -%}
    select {{ empty_to_null('id') }}
    from {{ source('hatch', 'hatch_conversation_items') }}
    where {{ message_batch_filter(
        loaded_at_column=raw_timestamp_utc('_loaded_at'),
        updated_at_column=raw_timestamp_utc('updated_at')
    ) }}
{%- endmacro %}

{#- `to_utc_timestamp` for a raw column that the loader usually types already (DuckDB: TIMESTAMPTZ):
    the same value, without the text round trip on every raw row when the column is typed; text
    still goes through `to_utc_timestamp`'s trimming and parsing. -#}
{% macro raw_timestamp_utc(expr) -%}
    {{ return(adapter.dispatch('raw_timestamp_utc', 'hatch_analytics')(expr)) }}
{%- endmacro %}

{% macro default__raw_timestamp_utc(expr) -%}
    {{ to_utc_timestamp(expr) }}
{%- endmacro %}

{% macro duckdb__raw_timestamp_utc(expr) -%}
    coalesce(timezone('UTC', try_cast({{ expr }} as timestamptz)), {{ to_utc_timestamp(expr) }})
{%- endmacro %}
