{#- stg_hatch__message_status_events materialized, incrementally: parsing every status history again
    for each reader and each data test was the most expensive part of the build. Incremental
    (delete+insert on message_id, so all entries of a re-read message are replaced): each run re-reads
    the histories of the messages in the batch of `message_batch_filter`. The post-hook drops the
    entries of messages whose newest version no longer has a history (they have no row in the batch
    to replace them); on a full build it deletes nothing. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='message_id',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} where message_id in (select message_id from {{ ref('int_hatch__messages') }} where status_history_raw is null)"
        ]
    )
}}

{#- Unpacked from `int_hatch__messages` (the materialized `stg_hatch__conversation_items`: the same
    message_id, status_history_raw and _loaded_at) with the SQL of `stg_hatch__message_status_events`
    (macro `hatch_status_events`). On an incremental run the batch is chosen BEFORE unpacking: only
    the histories of the batch's messages are parsed. -#}
{% if is_incremental() %}
{{ hatch_status_events(
    ref('int_hatch__messages'),
    message_filter=message_batch_filter(updated_at_anchor=ref('int_hatch__messages'))
) }}
{% else %}
{{ hatch_status_events(ref('int_hatch__messages')) }}
{% endif %}
