-- Built on the first query that reads it (the safety page; queries/dataset.py ON_FIRST_USE), in the
-- compressed facts database. One row per adverse event inside its patient's window (onset from the
-- first-dose day to last follow-up): the event, its patient (with the patient's sample_rank, the
-- integer key the selection joins on, patient_facts.sql), and the days since the patient's last
-- infusion on or before the onset (inside the window; null when none). None of this depends on the
-- filters: a filter change only selects these rows instead of reading the infusions again.
-- No parameters.
create or replace table adverse_event_facts as
with events as (
    select a.*, p.sample_rank, p.first_dose_date
    from adverse_events a
    join patient_facts p using (patient_id)
    where a.onset_date between p.first_dose_date and p.last_followup_date
),
last_infusion as (
    select e.patient_id, e.onset_date, max(i.dose_date) as last_dose_date
    from (select distinct patient_id, onset_date, first_dose_date from events) e
    join infusions i
      on i.patient_id = e.patient_id
     and i.dose_date between e.first_dose_date and e.onset_date
    group by e.patient_id, e.onset_date
)
select
    e.sample_rank,
    e.patient_id,
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
