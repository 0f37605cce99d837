with contact_history as (

    select
        campaign_id,
        campaign_name,
        organization_id,
        workspace_id,
        updated_at
    from {{ ref('stg_hatch__contact_history') }}

),

ranked as (

    select
        campaign_id,
        campaign_name,
        organization_id,
        workspace_id,
        count(*) over (partition by campaign_id) as contacts,
        min(updated_at) over (partition by campaign_id) as first_updated_at,
        max(updated_at) over (partition by campaign_id) as last_updated_at,
        row_number() over (
            partition by campaign_id
            order by updated_at desc, campaign_name desc
        ) as recency_rank
    from contact_history

)

select
    ranked.campaign_id,
    ranked.campaign_name,
    ranked.organization_id,
    workspaces.organization_name,
    ranked.workspace_id,
    workspaces.workspace_name,
    cast(ranked.contacts as {{ dbt.type_bigint() }}) as contacts,
    ranked.first_updated_at,
    ranked.last_updated_at
from ranked
left join {{ ref('int_hatch__workspaces') }} as workspaces
    on ranked.workspace_id = workspaces.workspace_id
where ranked.recency_rank = 1
