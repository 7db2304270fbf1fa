-- One row per selected patient: virtual-care contacts inside the window (first-dose day to last
-- follow-up, inclusive) in total, and contacts per month of follow-up (null with zero follow-up).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    -- pid: the patient's integer key (patient_facts.sql), on which the engagement facts are joined
    select * from selected_patients($filters)
),
per_patient as (
    select e.pid, sum(e.contacts) as contacts
    from engagement_facts_by_channel e
    semi join selected s using (pid)
    group by e.pid
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
    left join per_patient p using (pid)
)
select * from final order by subtype, patient_id
