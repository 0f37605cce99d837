"""Raw-table contracts: the documented columns of each export and their DuckDB types.

These are the single source of truth for ``raw.*`` tables. dbt sources
(``models/staging/*/_*__sources.yml``) describe the same columns.

Every raw table is append-only and carries lineage columns (``LINEAGE_COLUMNS``); Hatch
export tables also carry the export window (``HATCH_WINDOW_COLUMNS``). Columns that appear
in an export but are not listed here (schema drift) are added as VARCHAR, after the
lineage columns, the first time they are seen; they never fail a load.
"""

from __future__ import annotations

RAW_SCHEMA = "raw"
LOADER_SCHEMA = "loader"  # load log lives here: loader.load_log

# Timestamps are TIMESTAMPTZ; the loader's session runs with TimeZone=UTC so naive values
# are read as UTC. DuckDB accepts ISO 8601 with 'T' or space, with or without fractions
# and with or without an offset ('Z', '+hh', '+hh:mm').
HATCH_COLUMNS: dict[str, dict[str, str]] = {
    "contact_history": {
        "organization_id": "VARCHAR",
        "organization_name": "VARCHAR",
        "workspace_id": "VARCHAR",
        "workspace_name": "VARCHAR",
        "contact_history_id": "VARCHAR",
        "campaign_id": "VARCHAR",
        "campaign_name": "VARCHAR",
        "current_lead_source": "VARCHAR",
        "hatch_contact_id": "VARCHAR",
        "contact_status": "VARCHAR",
        "campaign_stage": "VARCHAR",
        "sales_value": "DOUBLE",
        "opted_out": "BOOLEAN",
        "email": "VARCHAR",
        "phone": "VARCHAR",
        "updated_at": "TIMESTAMPTZ",
        "external_contact_id": "VARCHAR",
        "appointment_id": "VARCHAR",
        "invoice_id": "VARCHAR",
    },
    "conversation_items": {
        "organization_id": "VARCHAR",
        "organization_name": "VARCHAR",
        "workspace_id": "VARCHAR",
        "workspace_name": "VARCHAR",
        "id": "VARCHAR",
        "conversation_id": "VARCHAR",
        "contact_id": "VARCHAR",
        "actor_type": "VARCHAR",
        "actor_id": "VARCHAR",
        "category": "VARCHAR",
        "type": "VARCHAR",
        "direction": "VARCHAR",
        "body": "VARCHAR",
        "delivery_status": "VARCHAR",
        "status_history": "VARCHAR",
        "chatbot_disposition": "VARCHAR",
        "send_at": "TIMESTAMPTZ",
        "is_scheduled": "BOOLEAN",
        "provider_name": "VARCHAR",
        "provider_message_id": "VARCHAR",
        "mongo_id": "VARCHAR",
        "updated_at": "TIMESTAMPTZ",
    },
}

HATCH_DATASETS = tuple(HATCH_COLUMNS)

# Hatch raw table name per dataset
HATCH_TABLES = {ds: f"{RAW_SCHEMA}.hatch_{ds}" for ds in HATCH_DATASETS}

HATCH_WINDOW_COLUMNS = {
    "_export_start_date": "DATE",  # window start, from the archive name
    "_export_end_date": "DATE",  # window end, from the archive name ("a later export")
}

LINEAGE_COLUMNS = {
    "_file_name": "VARCHAR",  # archive or file name in the landing store (no directories)
    "_file_sha256": "VARCHAR",  # sha256 of the archive / file bytes: the exactly-once key
    "_record_number": "BIGINT",  # 1-based line (JSON lines) or record (CSV, arrays) number
    "_loaded_at": "TIMESTAMPTZ",  # when the load transaction ran
}

# Document sources (issue 5): each record kept whole as JSON, plus lineage.
DOCUMENT_TABLES = {
    "leads": f"{RAW_SCHEMA}.hatch_leads",
    "huechat": f"{RAW_SCHEMA}.huechat_conversations",
    "texter": f"{RAW_SCHEMA}.texter_chats",
}
DOCUMENT_COLUMNS = {"record": "JSON"}

LOAD_LOG_TABLE = f"{LOADER_SCHEMA}.load_log"
