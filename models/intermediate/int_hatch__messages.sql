{#- stg_hatch__conversation_items materialized once (without `body`), incrementally: the staging view
    re-runs its dedup window and JSON parsing on every read, so the message models, the conversation
    and workspace rollups and speed to lead read this table instead. Incremental (delete+insert on
    message_id): each run re-reads the batch of `message_batch_filter`. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='message_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ source('hatch', 'hatch_conversation_items') }}
-- depends_on: {{ ref('int_hatch__build_batches') }}

select
    message_id,
    conversation_id,
    contact_id,
    organization_id,
    organization_name,
    workspace_id,
    workspace_name,
    actor_type,
    actor_id,
    category,
    message_type,
    direction,
    direction_raw,
    delivery_status,
    delivery_status_raw,
    status_history_raw,
    chatbot_disposition,
    send_at,
    is_scheduled,
    provider_name,
    provider_message_id,
    mongo_id,
    updated_at,
    message_at,
    _file_name,
    _record_number,
    _loaded_at
from (
    {%- if is_incremental() %}
    {#- Only the raw rows of the messages with a raw row in the batch are ranked (every version of
        each such message, so the version chosen equals the view's); the batch filter on the chosen
        version then keeps exactly the view's batch. Ranking every raw row first was the bulk of an
        incremental run. -#}
    {{ hatch_conversation_items_latest(message_ids=hatch_raw_message_batch_ids()) }}
    {%- else %}
    select * from {{ ref('stg_hatch__conversation_items') }}
    {%- endif %}
) as items
where {{ message_batch_filter() }}
