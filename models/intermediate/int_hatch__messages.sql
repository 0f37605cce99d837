{#- stg_hatch__conversation_items materialized once (without `body`), incrementally: the staging view
    re-runs its dedup window and JSON parsing on every read, so the message models, the conversation
    and workspace rollups and speed to lead read this table instead. Incremental (delete+insert on
    message_id): each run ranks the raw rows of the batch of `message_batch_filter` and keeps the
    ones newer than the version already chosen. Each row written by an incremental run also records
    the conversation of the version it replaced and the run's anchor (`_replaced_conversation_id`,
    `_batch_loaded_after`): int_hatch__conversations then finds the conversations a message left
    without scanning the raw table (macro `hatch_conversation_batch_ids`). -#}
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
    _loaded_at,
    _replaced_conversation_id,
    {%- set loaded_after = batch_loaded_after(['updated_at']) %}
    {%- if loaded_after is not none %}
    cast('{{ loaded_after }}' as {{ dbt.type_timestamp() }}) as _batch_loaded_after
    {%- else %}
    cast(null as {{ dbt.type_timestamp() }}) as _batch_loaded_after
    {%- endif %}
from (
    {%- if is_incremental() %}
    {#- Only the batch's raw rows are ranked; their winners replace the chosen versions they beat
        (macro `newest_over_current`). Ranking every raw version of the batch's messages read the
        whole raw table, every column, on each run. -#}
    {{ newest_over_current(
        hatch_conversation_items_latest(raw_filter=hatch_raw_batch_filter()),
        'message_id', 'hatch_conversation_items', replaced_columns=['conversation_id']
    ) }}
    {%- else %}
    select
        *,
        cast(null as {{ dbt.type_string() }}) as _replaced_conversation_id
    from {{ ref('stg_hatch__conversation_items') }}
    {%- endif %}
) as items
where {{ message_batch_filter() }}
