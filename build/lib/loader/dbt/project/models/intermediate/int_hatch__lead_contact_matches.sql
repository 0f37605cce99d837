{#- Each lead's Hatch contact: by the sender's contact id against `external_contact_id`, else the
    normalised phone, else the e-mail. Within the best key, the contact-in-campaign row updated
    most recently wins (ties: contact_history_id). Leads without a match have no row here. -#}
with leads as (

    select lead_id, sender_contact_id, phone_number, email
    from {{ ref('stg_hatch__leads') }}

),

{#- one join per key, each reading int_hatch__contact_history itself: a `contacts` CTE used by
    all three was materialized in full (every contact row) before the joins, even with no leads -#}
candidates as (
    {%- for priority, method, lead_key, contact_key in [
        (1, 'external_contact_id', 'sender_contact_id', 'external_contact_id'),
        (2, 'phone', 'phone_number', 'phone_normalized'),
        (3, 'email', 'email', 'email')
    ] %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        leads.lead_id,
        contacts.contact_history_id,
        contacts.hatch_contact_id,
        contacts.campaign_id,
        contacts.campaign_name,
        contacts.current_lead_source,
        contacts.updated_at,
        {{ priority }} as match_priority,
        '{{ method }}' as match_method
    from leads
    inner join {{ ref('int_hatch__contact_history') }} as contacts
        on leads.{{ lead_key }} = contacts.{{ contact_key }}
    where contacts.hatch_contact_id is not null
    {%- endfor %}

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
