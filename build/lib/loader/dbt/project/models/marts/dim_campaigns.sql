{#- One row per campaign, named after its most recently updated contact record. The records are
    first reduced to one row per campaign and naming (one hash aggregate), then the most recent
    naming is picked: the same row as ranking every record, without sorting them all. -#}
with contact_history as (

    select
        campaign_id,
        campaign_name,
        organization_id,
        workspace_id,
        updated_at
    from {{ ref('int_hatch__contact_history') }}

),

namings as (

    select
        campaign_id,
        campaign_name,
        organization_id,
        workspace_id,
        count(*) as contacts,
        min(updated_at) as first_updated_at,
        max(updated_at) as last_updated_at
    from contact_history
    group by campaign_id, campaign_name, organization_id, workspace_id

),

ranked as (

    select
        campaign_id,
        campaign_name,
        organization_id,
        workspace_id,
        sum(contacts) over (partition by campaign_id) as contacts,
        min(first_updated_at) over (partition by campaign_id) as first_updated_at,
        max(last_updated_at) over (partition by campaign_id) as last_updated_at,
        row_number() over (
            partition by campaign_id
            order by last_updated_at desc, campaign_name desc, organization_id desc, workspace_id desc
        ) as recency_rank
    from namings

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
