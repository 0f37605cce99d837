{#- stg_hatch__contact_history materialized, so the contact models, rollups and lead matching read a
    table rather than re-ranking every raw version. Incremental: a run re-ranks every version of
    each record that has a version loaded since the newest load in this table, and replaces them. -#}
{{
    config(
        materialized=hatch_incremental_materialization(),
        incremental_strategy=hatch_incremental_strategy(),
        unique_key='contact_history_id',
        on_schema_change='append_new_columns'
    )
}}

with versions as (

    select * from {{ ref('stg_hatch__contact_history_versions') }}
    {%- if is_incremental() %}
    where contact_history_id in (
        select contact_history_id
        from {{ ref('stg_hatch__contact_history_versions') }}
        where _loaded_at > (select max(_loaded_at) from {{ this }})
    )
    {%- endif %}

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
