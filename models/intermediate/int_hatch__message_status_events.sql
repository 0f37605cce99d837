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

with events as (

    select
        status_event_id,
        message_id,
        entry_index,
        status,
        status_raw,
        event_at,
        event_at_raw,
        entry_raw,
        is_parsed,
        _loaded_at
    from {{ ref('stg_hatch__message_status_events') }}

)

{% if is_incremental() %}
, batch as (

    select message_id
    from {{ ref('int_hatch__messages') }}
    where status_history_raw is not null
        and {{ message_batch_filter(updated_at_anchor=ref('int_hatch__messages')) }}

)
{% endif %}

select events.*
from events
{% if is_incremental() %}
where events.message_id in (select message_id from batch)
{% endif %}
