{#- Every exported version of every Hatch contact-in-campaign record, renamed and typed. Re-exports
    add versions; stg_hatch__contact_history keeps the newest of each. A table, appended with the
    versions loaded since its newest load: as a view it renamed and parsed every raw row on every
    read, which an incremental build cannot afford. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns'
    )
}}

with source as (

    select * from {{ source('hatch', 'hatch_contact_history') }}
    {%- if is_incremental() %}
    where _loaded_at > (select max(_loaded_at) from {{ this }})
    {%- endif %}

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

)

select * from renamed
