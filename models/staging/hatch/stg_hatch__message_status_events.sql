{#- One row per entry of a message's status_history (latest version of the message).
    Parsed tolerantly: a history that is not a JSON array is kept as one row (entry_index 0) with
    is_parsed = false; an entry without a recognisable status or time is kept and flagged. -#}
{{ hatch_status_events(ref('stg_hatch__conversation_items')) }}
