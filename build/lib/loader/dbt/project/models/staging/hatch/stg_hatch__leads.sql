{#- One row per lead (Hatch Standard API payloads). Identity (`lead_id`), in this order:
    the sender's lead id (`id` / `externalID` / `leadID`), else the sender's contact id
    (`contactID` / `externalContactID`), else a hash of (normalised phone, email, createdAt as sent);
    always scoped by `source`. Re-sent payloads of one lead keep the latest `updatedAt`
    (ties: the later load, then the later record). -#}
{%- set known_keys = [
    'firstName', 'lastName', 'phoneNumber', 'email', 'source', 'status', 'contactID',
    'externalContactID', 'id', 'externalID', 'leadID', 'createdAt', 'updatedAt',
    'externalCreatedAt', 'externalUpdatedAt'
] -%}

with source as (

    select * from {{ source('hatch', 'hatch_leads') }}

),

extracted as (

    select
        _file_sha256,
        _record_number,
        _file_name,
        {{ empty_to_null(json_extract_text('record', 'firstName')) }} as first_name,
        {{ empty_to_null(json_extract_text('record', 'lastName')) }} as last_name,
        {{ empty_to_null(json_extract_text('record', 'phoneNumber')) }} as phone_number_raw,
        {{ normalize_email(json_extract_text('record', 'email')) }} as email,
        {{ empty_to_null(json_extract_text('record', 'source')) }} as source,
        {{ empty_to_null(json_extract_text('record', 'status')) }} as status,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'id')) }},
            {{ empty_to_null(json_extract_text('record', 'externalID')) }},
            {{ empty_to_null(json_extract_text('record', 'leadID')) }}
        ) as sender_lead_id,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'contactID')) }},
            {{ empty_to_null(json_extract_text('record', 'externalContactID')) }}
        ) as sender_contact_id,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'createdAt')) }},
            {{ empty_to_null(json_extract_text('record', 'externalCreatedAt')) }}
        ) as created_at_raw,
        coalesce(
            {{ empty_to_null(json_extract_text('record', 'updatedAt')) }},
            {{ empty_to_null(json_extract_text('record', 'externalUpdatedAt')) }}
        ) as updated_at_raw,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from source

),

parsed as (

    select
        extracted.*,
        {{ normalize_phone('phone_number_raw') }} as phone_number,
        {{ parse_lead_timestamp('created_at_raw') }} as created_at,
        {{ parse_lead_timestamp('updated_at_raw') }} as updated_at,
        case
            when sender_lead_id is not null then 'sender_lead_id'
            when sender_contact_id is not null then 'sender_contact_id'
            else 'payload_hash'
        end as lead_key_type
    from extracted

),

keyed as (

    select
        parsed.*,
        {{ dbt.hash(dbt.concat([
            "coalesce(source, '')", "'|'", "lead_key_type", "'|'",
            "case lead_key_type when 'sender_lead_id' then sender_lead_id"
            ~ " when 'sender_contact_id' then sender_contact_id"
            ~ " else " ~ dbt.concat([
                "coalesce(phone_number, '')", "'|'", "coalesce(email, '')", "'|'",
                "coalesce(created_at_raw, '')"]) ~ " end"
        ])) }} as lead_id
    from parsed

),

ranked as (

    select
        keyed.*,
        row_number() over (
            partition by lead_id
            order by updated_at desc nulls last, _loaded_at desc, _file_name desc, _record_number desc
        ) as version_rank,
        count(*) over (partition by lead_id) as payload_count
    from keyed

),

properties as (

    {{ json_flatten_properties(source('hatch', 'hatch_leads'), ['_file_sha256', '_record_number'], 'record', known_keys) }}

)

select
    ranked.lead_id,
    ranked.lead_key_type,
    ranked.source,
    ranked.status,
    ranked.sender_lead_id,
    ranked.sender_contact_id,
    ranked.first_name,
    ranked.last_name,
    ranked.phone_number,
    ranked.phone_number_raw,
    ranked.email,
    ranked.created_at,
    ranked.created_at_raw,
    ranked.created_at_raw is not null and ranked.created_at is null as is_created_at_unparseable,
    ranked.updated_at,
    ranked.updated_at_raw,
    ranked.updated_at_raw is not null and ranked.updated_at is null as is_updated_at_unparseable,
    coalesce(properties.properties, {{ empty_string_map() }}) as custom_properties,
    ranked.payload_count,
    ranked._file_name,
    ranked._file_sha256,
    ranked._record_number,
    ranked._loaded_at
from ranked
left join properties
    on ranked._file_sha256 = properties._file_sha256
    and ranked._record_number = properties._record_number
where ranked.version_rank = 1
