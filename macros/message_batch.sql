{#- The incremental batch of the Hatch models (the message models int_hatch__messages,
    fct_messages; the contact
    models int_hatch__contact_history, fct_contact_campaigns; the conversation models through
    `hatch_conversation_batch_ids`): a boolean condition on the candidate rows.

    On an incremental run a record is re-read when its chosen version
      - was loaded after the newest load already in `{{ this }}` (every new or changed record: a newer
        version always comes with a newer load, and the loader holds a single-writer lock, so loads
        are serialised and a load whose rows the previous build saw had committed all of them: the
        newest load itself need not be re-read; re-reading it, `>=`, re-read the whole last
        transaction of a backfill on the first incremental run), or
      - was updated within `message_lookback_days` of the newest `updated_at` in `updated_at_anchor`
        (the lookback: optional, 0 by default, since the load-time rule already catches late and
        out-of-order loads; a positive value re-reads that many days of updates on every run).
    The lookback runs on the data's own clock (`updated_at`) rather than on load times: when the whole
    history was loaded in one go (first deployment, a benchmark, a backfill) a load-time lookback
    would re-read every message on every run. Off an incremental run the condition is `true`.
    `raw`: `loaded_at_column` is a raw table's load time, as the loader typed it
    (macro `raw_loaded_after`). With `message_lookback_days` 0 there is no lookback clause. An empty
    `{{ this }}` re-reads everything, and so does a `{{ this }}` without a `_loaded_at` column (a
    table built before the model was incremental; the column is then added, on_schema_change). -#}
{% macro message_batch_filter(loaded_at_column='_loaded_at', updated_at_column='updated_at', updated_at_anchor=none, raw=false) -%}
    {%- set loaded_after = batch_loaded_after([] if updated_at_anchor is not none else ['updated_at']) -%}
    {%- if loaded_after is not none -%}
    (
        {% if raw -%}
        {{ raw_loaded_after(loaded_at_column, loaded_after) }}
        {%- else -%}
        {{ loaded_at_column }} > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})
        {%- endif %}
        {%- if var('message_lookback_days') | int > 0 %}
        or {{ updated_at_column }} >= (
            select {{ dbt.dateadd('day', -1 * var('message_lookback_days'), 'max(updated_at)') }}
            from {{ updated_at_anchor if updated_at_anchor is not none else this }}
        )
        {%- endif %}
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- The anchor of an incremental run of the model being compiled: the newest `_loaded_at` in
    `{{ this }}` as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), or none (not an incremental run, an empty
    `{{ this }}`, or one without a `_loaded_at` column or one of `required_columns`). Read once, at
    compile time, and written into the SQL as a literal: a comparison with a constant lets the scan
    skip row groups by their min/max (tables are appended in load order), a comparison with a
    subquery does not. -#}
{% macro batch_loaded_after(required_columns=[]) -%}
    {%- if not (is_incremental() and execute) -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- for column in ['_loaded_at'] + required_columns if column not in existing -%}
        {{- return(none) -}}
    {%- endfor -%}
    {%- set anchor = run_query('select max(_loaded_at) from ' ~ this) -%}
    {%- if anchor | length > 0 and anchor.rows[0][0] is not none -%}
        {{- return(anchor.rows[0][0].strftime('%Y-%m-%d %H:%M:%S.%f')) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}

{#- The condition on a raw Hatch table's rows that are in the batch of `message_batch_filter`,
    anchored on `{{ this }}` (and on `updated_at_anchor` for the lookback when given). -#}
{% macro hatch_raw_batch_filter(updated_at_anchor=none) -%}
    {{ message_batch_filter(
        loaded_at_column='_loaded_at',
        updated_at_column=raw_timestamp_utc('updated_at'),
        updated_at_anchor=updated_at_anchor,
        raw=true
    ) }}
{%- endmacro %}

{#- The ids (`id_column`, normalised like staging) of a raw Hatch table (`table_name`) with a raw row in
    the batch (`hatch_raw_batch_filter`): a superset of the ids whose chosen version is in the batch,
    since the chosen version is one of the record's raw rows. -#}
{% macro hatch_raw_batch_ids(table_name, id_column, updated_at_anchor=none) -%}
    select {{ empty_to_null(id_column) }}
    from {{ source('hatch', table_name) }}
    where {{ hatch_raw_batch_filter(updated_at_anchor=updated_at_anchor) }}
{%- endmacro %}

{#- An incremental run of a newest-version model (`int_hatch__messages`, `int_hatch__contact_history`,
    whose `{{ this }}` holds each record's chosen version): the batch's winners that beat the
    versions already chosen. `batch_sql` ranks just the raw rows of the batch (one row per `key`,
    the newest among them, with `updated_at` and `_file_name`); a record's newest version overall
    is the newer of that row and the one in `{{ this }}` (the newest of every row loaded before),
    so a record whose chosen version still wins is left out (delete+insert leaves its row alone).
    The order is the staging models': `updated_at`, then the export's end date, then the load, and
    a batch row is always loaded after the rows in `{{ this }}`. The end date of a version is its
    archive's (`_file_name`; one window per archive name), read from the raw table. This never
    reads the other versions' full rows: ranking every raw version of the batch's records scanned
    every column of the whole raw table. `replaced_columns`: columns of the version a winner
    replaces, added to the winner's row as `_replaced_<column>` (null for a new record). -#}
{% macro newest_over_current(batch_sql, key, table_name, replaced_columns=[]) -%}
with batch as (

    {{ batch_sql }}

),

current_versions as (

    select {{ key }}, updated_at, _file_name{% for column in replaced_columns %}, {{ column }}{% endfor %}
    from {{ this }}
    where {{ key }} in (select {{ key }} from batch)

),

export_windows as (

    select _file_name, max(_export_end_date) as export_end_date
    from {{ source('hatch', table_name) }}
    where _file_name in (select _file_name from current_versions)
        or _file_name in (select _file_name from batch)
    group by _file_name

)

select
    batch.*{% for column in replaced_columns %},
    current_versions.{{ column }} as _replaced_{{ column }}{% endfor %}
from batch
left join current_versions
    on batch.{{ key }} = current_versions.{{ key }}
left join export_windows as current_window
    on current_versions._file_name = current_window._file_name
left join export_windows as batch_window
    on batch._file_name = batch_window._file_name
where current_versions.{{ key }} is null
    or not (
        {#- the current version ranks first: a newer updated_at (a value beats null), or the same
            updated_at and a later export end date (likewise); a full tie goes to the later load,
            the batch's -#}
        (current_versions.updated_at is not null
            and (batch.updated_at is null or current_versions.updated_at > batch.updated_at))
        or (
            (current_versions.updated_at = batch.updated_at
                or (current_versions.updated_at is null and batch.updated_at is null))
            and current_window.export_end_date is not null
            and (batch_window.export_end_date is null
                or current_window.export_end_date > batch_window.export_end_date)
        )
    )
{%- endmacro %}

{#- The conversations an incremental run of int_hatch__conversations recomputes (`{{ this }}` has
    `conversation_id`, `contact_id` and `_loaded_at`, the newest load among the row's inputs):
    - every conversation that a message's chosen version joined or left since the last run: for a
      message whose chosen version changed, the conversation of its new version and the one of the
      version it replaced (a re-exported message can move, and its old conversation loses it while
      the new one gains it);
    - the conversations in `{{ this }}` of the contacts (of any version) of a contact_history record in
      the raw contact batch: a conversation's status is its contact's latest campaign status.
    The batches are those of `message_batch_filter`, anchored on `{{ this }}` for the load time and
    on the int models for the `updated_at` lookback. The messages part comes from one of two places
    (macro `hatch_moved_conversations_recorded`): int_hatch__messages' rows of the batch, which
    carry the conversation of the version they replaced (a read of the batch's rows only), when
    that table recorded every change since the last run; else every raw version, old or new, of a
    message in the raw batch (a scan of the whole raw table's ids). -#}
{% macro hatch_conversation_batch_ids() -%}
    {%- set loaded_after = hatch_moved_conversations_recorded() -%}
    {%- if loaded_after is not none %}
    select conversation_id
    from {{ ref('int_hatch__messages') }}
    where _loaded_at > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})
    union
    select _replaced_conversation_id as conversation_id
    from {{ ref('int_hatch__messages') }}
    where _loaded_at > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})
        and _replaced_conversation_id is not null
    {%- else %}
    select {{ empty_to_null('conversation_id') }} as conversation_id
    from {{ source('hatch', 'hatch_conversation_items') }}
    where {{ normalized_key_in('id', hatch_raw_batch_ids('hatch_conversation_items', 'id',
        updated_at_anchor=ref('int_hatch__messages'))) }}
    {%- endif %}
    union
    select conversation_id
    from {{ this }}
    where contact_id in (
            select {{ empty_to_null('hatch_contact_id') }}
            from {{ source('hatch', 'hatch_contact_history') }}
            where {{ normalized_key_in('contact_history_id', hatch_raw_batch_ids('hatch_contact_history',
                'contact_history_id', updated_at_anchor=ref('int_hatch__contact_history'))) }}
        )
{%- endmacro %}

{#- For an incremental run of int_hatch__conversations: its anchor (`batch_loaded_after`) when the
    rows of int_hatch__messages loaded after it say where every changed message was before, else
    none. They do when each was written by one incremental run of int_hatch__messages that started
    from the state this model last read: its `_batch_loaded_after` (that run's own anchor) is set
    and not after this model's anchor. A full refresh of int_hatch__messages (null), two of its
    runs since this model's last one (the second one's anchor is later: a message it changed again
    lost the conversation the first run recorded), or the `message_lookback_days` lookback (which
    re-reads versions loaded before the anchor) each fall back to the raw scan. -#}
{% macro hatch_moved_conversations_recorded() -%}
    {%- set loaded_after = batch_loaded_after() -%}
    {%- if loaded_after is none or var('message_lookback_days') | int > 0 -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set messages = ref('int_hatch__messages') -%}
    {%- set columns = adapter.get_columns_in_relation(messages) | map(attribute='name') | map('lower') | list -%}
    {%- if '_replaced_conversation_id' not in columns or '_batch_loaded_after' not in columns -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set unrecorded_sql -%}
        select count(*)
        from {{ messages }}
        where _loaded_at > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }})
            and (_batch_loaded_after is null
                or _batch_loaded_after > cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }}))
    {%- endset -%}
    {%- set unrecorded = run_query(unrecorded_sql) -%}
    {{- return(loaded_after if unrecorded.rows[0][0] == 0 else none) -}}
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

{#- A condition: the raw load time `column` is after `timestamp_text` ('YYYY-MM-DD HH:MM:SS.ffffff', UTC). -#}
{% macro raw_loaded_after(column, timestamp_text) -%}
    {{ return(adapter.dispatch('raw_loaded_after', 'hatch_analytics')(column, timestamp_text)) }}
{%- endmacro %}

{% macro default__raw_loaded_after(column, timestamp_text) -%}
    {{ raw_timestamp_utc(column) }} > cast('{{ timestamp_text }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- DuckDB: the raw column compared as the loader types it (TIMESTAMPTZ) with a constant, so the scan
    skips the row groups of older loads by their min/max (raw tables are appended in load order). -#}
{% macro duckdb__raw_loaded_after(column, timestamp_text) -%}
    {{ column }} > cast('{{ timestamp_text }}+00' as timestamptz)
{%- endmacro %}

{#- A condition: the raw key `column`, normalised like staging (`empty_to_null`), is one of the keys
    of `keys_sql` (a subquery of normalised keys). Normalising every raw row's key to probe the set
    costs more than the rest of an incremental run's scan, so the raw key is probed first, as it is:
    a raw key that equals its normalised form matches directly, and only keys with a surrounding
    blank (which `trim` removes) go on to the exact, normalised comparison. -#}
{% macro normalized_key_in(column, keys_sql) -%}
    ({{ column }} in ({{ keys_sql }}) or {{ column }} like ' %' or {{ column }} like '% ')
    and {{ empty_to_null(column) }} in ({{ keys_sql }})
{%- endmacro %}
