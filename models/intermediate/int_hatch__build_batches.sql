{#- One row per dbt build: the raw Hatch loads it took in, i.e. rows loaded after `loaded_after` (the
    previous build's `loaded_through`; null on a full build: everything) up to `loaded_through`.
    Incremental (append). It scopes the data tests of an incremental build to the records of its
    batch (macro `test_batch_scope`); the models keep their own anchors (`message_batch_filter`), so
    a build that failed half-way is caught up by the next one whatever this table says. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns'
    )
}}

with loads as (

    select max({{ raw_timestamp_utc('_loaded_at') }}) as loaded_at
    from {{ source('hatch', 'hatch_conversation_items') }}
    union all
    select max({{ raw_timestamp_utc('_loaded_at') }}) as loaded_at
    from {{ source('hatch', 'hatch_contact_history') }}

)

select
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }}) as built_at,
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as invocation_id,
    {%- if is_incremental() %}
    (select max(loaded_through) from {{ this }}) as loaded_after,
    {%- else %}
    cast(null as {{ dbt.type_timestamp() }}) as loaded_after,
    {%- endif %}
    max(loads.loaded_at) as loaded_through
from loads
