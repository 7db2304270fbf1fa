-- One row per adverse event inside a selected patient's window: the event, its patient, and the days
-- since the patient's last infusion on or before the onset (inside the window; null when none).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
events as (
    select a.*, s.subtype, s.first_dose_date
    from adverse_events a
    join selected s using (patient_id)
    where a.onset_date between s.first_dose_date and s.last_followup_date
),
last_infusion as (
    select e.patient_id, e.onset_date, max(i.dose_date) as last_dose_date
    from (select distinct patient_id, onset_date, first_dose_date from events) e
    join infusions i
      on i.patient_id = e.patient_id
     and i.dose_date between e.first_dose_date and e.onset_date
    group by e.patient_id, e.onset_date
),
final as (
    select
        e.patient_id,
        e.subtype,
        e.onset_date,
        e.term,
        e.relation,
        e.grade,
        e.serious,
        e.outcome,
        e.infection,
        e.opportunistic,
        e.course,
        l.last_dose_date,
        e.onset_date - l.last_dose_date as days_since_last_infusion
    from events e
    left join last_infusion l using (patient_id, onset_date)
)
select * from final order by onset_date, patient_id, term
