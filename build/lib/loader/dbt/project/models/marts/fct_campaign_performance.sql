{#- One row per organization, workspace, campaign and current contact status. -#}
with contact_campaigns as (

    select
        organization_id,
        workspace_id,
        campaign_id,
        contact_status,
        contact_status_sort_order,
        is_final_status,
        is_known_status,
        is_opted_out,
        has_sales,
        sales_value
    from {{ ref('fct_contact_campaigns') }}

),

by_status as (

    select
        organization_id,
        workspace_id,
        campaign_id,
        contact_status,
        max(contact_status_sort_order) as contact_status_sort_order,
        max(case when is_final_status then 1 else 0 end) = 1 as is_final_status,
        max(case when is_known_status then 1 else 0 end) = 1 as is_known_status,
        count(*) as contacts,
        sum(case when is_opted_out then 1 else 0 end) as opted_out_contacts,
        sum(case when has_sales then 1 else 0 end) as contacts_with_sales,
        {#- summed as an exact decimal: a double sum depends on the (parallel) order of the rows, so two
            builds of the same data could differ in the last bits -#}
        sum(cast(coalesce(sales_value, 0) as {{ dbt.type_numeric() }})) as total_sales_value
    from contact_campaigns
    group by organization_id, workspace_id, campaign_id, contact_status

),

campaigns as (

    select
        campaign_id,
        campaign_name,
        organization_name,
        workspace_name
    from {{ ref('dim_campaigns') }}

)

select
    by_status.organization_id,
    campaigns.organization_name,
    by_status.workspace_id,
    campaigns.workspace_name,
    by_status.campaign_id,
    campaigns.campaign_name,
    by_status.contact_status,
    by_status.contact_status_sort_order,
    by_status.is_final_status,
    by_status.is_known_status,
    cast(by_status.contacts as {{ dbt.type_bigint() }}) as contacts,
    cast(by_status.opted_out_contacts as {{ dbt.type_bigint() }}) as opted_out_contacts,
    cast(by_status.contacts_with_sales as {{ dbt.type_bigint() }}) as contacts_with_sales,
    cast(by_status.total_sales_value as double) as total_sales_value,
    cast(by_status.contacts as double)
        / sum(by_status.contacts) over (
            partition by by_status.organization_id, by_status.workspace_id, by_status.campaign_id
        ) as share_of_campaign_contacts
from by_status
left join campaigns
    on by_status.campaign_id = campaigns.campaign_id
