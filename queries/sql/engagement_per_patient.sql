-- One row per selected patient: virtual-care contacts inside the window (first-dose day to last
-- follow-up, inclusive), in total and per channel (a map channel -> contacts, empty without contacts),
-- and contacts per month of follow-up (null with zero follow-up).
-- $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min, $age_max:
-- the selection.
with selected as (
    select *
    from selected_patients(
        $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min,
        $age_max
    )
),
per_channel as (
    select e.patient_id, e.channel, count(*) as contacts
    from engagement e
    join selected s using (patient_id)
    where e.contact_date between s.first_dose_date and s.last_followup_date
    group by all
),
per_patient as (
    select
        patient_id,
        cast(sum(contacts) as bigint) as contacts,
        map_from_entries(list((channel, contacts) order by channel)) as contacts_by_channel
    from per_channel
    group by patient_id
),
final as (
    select
        s.patient_id,
        s.subtype,
        s.followup_months,
        coalesce(p.contacts, 0) as contacts,
        coalesce(p.contacts_by_channel, map()) as contacts_by_channel,
        case when s.followup_months > 0 then coalesce(p.contacts, 0) / s.followup_months end
            as contacts_per_month
    from selected s
    left join per_patient p using (patient_id)
)
select * from final order by subtype, patient_id
