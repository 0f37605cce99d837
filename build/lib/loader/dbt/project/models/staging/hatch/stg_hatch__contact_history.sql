{#- One row per Hatch contact-in-campaign record: its newest version (macro
    `hatch_newest_version_first`). -#}
with versions as (

    select * from {{ ref('stg_hatch__contact_history_versions') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by contact_history_id order by {{ hatch_newest_version_first() }}
        ) as version_rank
    from versions

)

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
from ranked
where version_rank = 1
