select
    workspace_id,
    workspace_name,
    organization_id,
    organization_name,
    first_seen_at,
    last_seen_at
from {{ ref('int_hatch__workspaces') }}
