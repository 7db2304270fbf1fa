-- One row per selected patient: virtual-care contacts inside the window (first-dose day to last
-- follow-up, inclusive) in total, and contacts per month of follow-up (null with zero follow-up).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
per_patient as (
    select e.patient_id, sum(e.contacts) as contacts
    from engagement_facts_by_channel e
    join selected s using (patient_id)
    group by e.patient_id
),
final as (
    select
        s.patient_id,
        s.subtype,
        s.followup_months,
        cast(coalesce(p.contacts, 0) as bigint) as contacts,
        case when s.followup_months > 0 then coalesce(p.contacts, 0) / s.followup_months end
            as contacts_per_month
    from selected s
    left join per_patient p using (patient_id)
)
select * from final order by subtype, patient_id
