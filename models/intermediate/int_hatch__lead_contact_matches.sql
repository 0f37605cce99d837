{#- Each lead's Hatch contact: by the sender's contact id against `external_contact_id`, else the
    normalised phone, else the e-mail. Within the best key, the contact-in-campaign row updated
    most recently wins (ties: contact_history_id). Leads without a match have no row here. -#}
with leads as (

    select lead_id, sender_contact_id, phone_number, email
    from {{ ref('stg_hatch__leads') }}

),

contacts as (

    select
        contact_history_id,
        hatch_contact_id,
        campaign_id,
        campaign_name,
        current_lead_source,
        external_contact_id,
        phone_normalized,
        email,
        updated_at
    from {{ ref('int_hatch__contact_history') }}
    where hatch_contact_id is not null

),

candidates as (

    select leads.lead_id, contacts.*, 1 as match_priority, 'external_contact_id' as match_method
    from leads
    inner join contacts on leads.sender_contact_id = contacts.external_contact_id

    union all

    select leads.lead_id, contacts.*, 2 as match_priority, 'phone' as match_method
    from leads
    inner join contacts on leads.phone_number = contacts.phone_normalized

    union all

    select leads.lead_id, contacts.*, 3 as match_priority, 'email' as match_method
    from leads
    inner join contacts on leads.email = contacts.email

),

ranked as (

    select
        candidates.*,
        row_number() over (
            partition by lead_id
            order by match_priority, updated_at desc nulls last, contact_history_id
        ) as match_rank
    from candidates

)

select
    lead_id,
    hatch_contact_id,
    contact_history_id,
    campaign_id,
    campaign_name,
    current_lead_source,
    match_method
from ranked
where match_rank = 1
