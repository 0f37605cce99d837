{#- stg_hatch__contact_history materialized, incrementally: the staging view re-runs its dedup window
    on every read, so the contact models, rollups and lead matching read this table instead.
    Incremental (delete+insert on contact_history_id): each run ranks the raw rows of the batch of
    `message_batch_filter` and keeps the ones newer than the version already chosen (macro
    `newest_over_current`). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='contact_history_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ source('hatch', 'hatch_contact_history') }}
-- depends_on: {{ ref('int_hatch__build_batches') }}

select
    contact_history_id,
    organization_id,
    organization_name,
    workspace_id,
    workspace_name,
    campaign_id,
    campaign_name,
    hatch_contact_id,
    current_lead_source,
    contact_status,
    campaign_stage,
    sales_value,
    is_opted_out,
    email,
    phone,
    phone_normalized,
    external_contact_id,
    appointment_id,
    invoice_id,
    updated_at,
    _file_name,
    _record_number,
    _loaded_at
from (
    {%- if is_incremental() %}
    {{ newest_over_current(
        hatch_contact_history_latest(raw_filter=hatch_raw_batch_filter()),
        'contact_history_id', 'hatch_contact_history'
    ) }}
    {%- else %}
    select * from {{ ref('stg_hatch__contact_history') }}
    {%- endif %}
) as contact_history
where {{ message_batch_filter() }}
