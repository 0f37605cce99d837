{#- The SQL of `stg_hatch__contact_history` (one row per contact_history_id, its newest version),
    shared with the incremental `int_hatch__contact_history`. `raw_filter`: optional condition on
    the raw rows; when given, only those rows are ranked (the incremental batch, whose winners
    `newest_over_current` then compares with the versions already chosen). The staging view calls
    it without one. -#}
{% macro hatch_contact_history_latest(raw_filter=none) -%}
with source as (

    select * from {{ source('hatch', 'hatch_contact_history') }}

),

renamed as (

    select
        {{ empty_to_null('contact_history_id') }} as contact_history_id,
        {{ empty_to_null('organization_id') }} as organization_id,
        {{ empty_to_null('organization_name') }} as organization_name,
        {{ empty_to_null('workspace_id') }} as workspace_id,
        {{ empty_to_null('workspace_name') }} as workspace_name,
        {{ empty_to_null('campaign_id') }} as campaign_id,
        {{ empty_to_null('campaign_name') }} as campaign_name,
        {{ empty_to_null('hatch_contact_id') }} as hatch_contact_id,
        {{ empty_to_null('current_lead_source') }} as current_lead_source,
        {{ empty_to_null('contact_status') }} as contact_status,
        {{ empty_to_null('campaign_stage') }} as campaign_stage,
        cast(sales_value as double) as sales_value,
        {{ to_boolean('opted_out') }} as is_opted_out,
        {{ normalize_email('email') }} as email,
        {{ empty_to_null('phone') }} as phone,
        {{ normalize_phone('phone') }} as phone_normalized,
        {{ empty_to_null('external_contact_id') }} as external_contact_id,
        {{ empty_to_null('appointment_id') }} as appointment_id,
        {{ empty_to_null('invoice_id') }} as invoice_id,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        _export_end_date,
        _file_name,
        _record_number,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from source
    {%- if raw_filter is not none %}
    where {{ raw_filter }}
    {%- endif %}

),

ranked as (

    select
        renamed.*,
        row_number() over (
            partition by contact_history_id
            order by
                updated_at desc nulls last,
                _export_end_date desc nulls last,
                _loaded_at desc,
                _file_name desc,
                _record_number desc
        ) as version_rank
    from renamed

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
{%- endmacro %}
