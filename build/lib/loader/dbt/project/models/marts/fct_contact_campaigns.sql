{#- One row per contact in a campaign (contact_history record), newest version. Incremental: a run
    re-reads the records loaded since the newest load in this table and replaces them. -#}
{{
    config(
        materialized=hatch_incremental_materialization(),
        incremental_strategy=hatch_incremental_strategy(),
        unique_key='contact_history_id',
        on_schema_change='append_new_columns'
    )
}}

with contact_history as (

    select
        contact_history_id,
        hatch_contact_id,
        organization_id,
        workspace_id,
        campaign_id,
        contact_status,
        campaign_stage,
        current_lead_source,
        sales_value,
        is_opted_out,
        email,
        phone_normalized,
        external_contact_id,
        appointment_id,
        invoice_id,
        updated_at,
        _loaded_at
    from {{ ref('int_hatch__contact_history') }}
    {%- if is_incremental() %}
    where _loaded_at > (select max(_loaded_at) from {{ this }})
    {%- endif %}

),

contact_statuses as (

    select
        contact_status,
        is_final,
        sort_order
    from {{ ref('hatch_contact_statuses') }}

)

select
    contact_history.contact_history_id,
    contact_history.hatch_contact_id,
    contact_history.organization_id,
    contact_history.workspace_id,
    contact_history.campaign_id,
    contact_history.contact_status,
    contact_statuses.sort_order as contact_status_sort_order,
    contact_statuses.is_final as is_final_status,
    (contact_statuses.contact_status is not null) as is_known_status,
    contact_history.campaign_stage,
    contact_history.current_lead_source,
    contact_history.sales_value,
    coalesce(contact_history.sales_value > 0, false) as has_sales,
    coalesce(contact_history.is_opted_out, false) as is_opted_out,
    contact_history.email,
    contact_history.phone_normalized,
    contact_history.external_contact_id,
    contact_history.appointment_id,
    contact_history.invoice_id,
    contact_history.updated_at,
    contact_history._loaded_at
from contact_history
left join contact_statuses
    on contact_history.contact_status = contact_statuses.contact_status
