{#- One row per workspace seen in contact history or messages, with the names of its most
    recently updated record and when it was first and last seen. -#}
with workspace_records as (

    select organization_id, organization_name, workspace_id, workspace_name, updated_at
    from {{ ref('stg_hatch__contact_history') }}
    union all
    select organization_id, organization_name, workspace_id, workspace_name, updated_at
    from {{ ref('int_hatch__messages') }}

),

ranked as (

    select
        organization_id,
        organization_name,
        workspace_id,
        workspace_name,
        min(updated_at) over (partition by workspace_id) as first_seen_at,
        max(updated_at) over (partition by workspace_id) as last_seen_at,
        row_number() over (
            partition by workspace_id
            order by updated_at desc, organization_id desc, workspace_name desc
        ) as recency_rank
    from workspace_records
    where workspace_id is not null

)

select
    workspace_id,
    workspace_name,
    organization_id,
    organization_name,
    first_seen_at,
    last_seen_at
from ranked
where recency_rank = 1
