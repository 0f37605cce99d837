{#- One row per entry of a message's status_history (newest version of the message).
    Parsed tolerantly: a history that is not a JSON array is kept as one row (entry_index 0) with
    is_parsed = false; an entry without a recognisable status or time is kept and flagged. -#}
with status_histories as (

    select
        message_id,
        status_history_raw,
        _loaded_at
    from {{ ref('stg_hatch__conversation_items') }}
    where status_history_raw is not null

),

entries as (

    {{ explode_json_array('status_histories', ['message_id', 'status_history_raw', '_loaded_at'], 'status_history_raw') }}

),

parsed_entries as (

    select
        message_id,
        entry_index,
        entry_text,
        {{ empty_to_null(hatch_status_entry_status('entry_text')) }} as status_raw,
        {{ empty_to_null(hatch_status_entry_time_text('entry_text')) }} as event_at_raw,
        _loaded_at
    from entries

),

unparsed_histories as (

    select
        message_id,
        cast(0 as {{ dbt.type_bigint() }}) as entry_index,
        status_history_raw as entry_text,
        cast(null as {{ dbt.type_string() }}) as status_raw,
        cast(null as {{ dbt.type_string() }}) as event_at_raw,
        _loaded_at
    from status_histories
    where not {{ is_json_array('status_history_raw') }}

),

unioned as (

    select * from parsed_entries
    union all
    select * from unparsed_histories

)

select
    {{ dbt.concat(['message_id', "'-'", dbt.cast('entry_index', dbt.type_string())]) }} as status_event_id,
    message_id,
    entry_index,
    lower(status_raw) as status,
    status_raw,
    {{ to_utc_timestamp('event_at_raw') }} as event_at,
    event_at_raw,
    entry_text as entry_raw,
    (
        entry_index > 0
        and status_raw is not null
        and {{ to_utc_timestamp('event_at_raw') }} is not null
    ) as is_parsed,
    _loaded_at
from unioned
