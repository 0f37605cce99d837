{#- One row per workspace seen in contact history or messages, with the names of its most
    recently updated record and when it was first and last seen. The records are first reduced to
    one row per workspace and naming (one hash aggregate over every record; a handful of groups),
    and the most recent naming is picked from those: the same row as ranking every record, without
    sorting millions of rows on each build. -#}
with workspace_records as (

    select organization_id, organization_name, workspace_id, workspace_name, updated_at
    from {{ ref('int_hatch__contact_history') }}
    union all
    select organization_id, organization_name, workspace_id, workspace_name, updated_at
    from {{ ref('int_hatch__messages') }}

),

namings as (

    select
        workspace_id,
        organization_id,
        organization_name,
        workspace_name,
        min(updated_at) as first_updated_at,
        max(updated_at) as last_updated_at
    from workspace_records
    where workspace_id is not null
    group by workspace_id, organization_id, organization_name, workspace_name

),

ranked as (

    select
        organization_id,
        organization_name,
        workspace_id,
        workspace_name,
        min(first_updated_at) over (partition by workspace_id) as first_seen_at,
        max(last_updated_at) over (partition by workspace_id) as last_seen_at,
        row_number() over (
            partition by workspace_id
            order by last_updated_at desc, organization_id desc, workspace_name desc, organization_name desc
        ) as recency_rank
    from namings

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
