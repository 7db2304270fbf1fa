-- Built on the first query that reads it (queries/dataset.py ON_FIRST_USE: the swimmer plot), in the
-- compressed facts database. One row per event of any patient inside the window: an infusion, a
-- relapse, an adverse event or an active MRI scan (>= 1 new T2 or Gd-enhancing lesion), with its months
-- since the first dose and a detail. Windows per the contract: infusions, relapses, adverse events on or
-- after the first dose; scans after it.
-- Rows are stored in the patients' sample_rank order, so that the swimmer's query for its sample (the
-- first few hundred selected patients by sample_rank) reads only the first row groups.
-- No parameters.
create or replace table swimmer_event_facts as
with windows as (
    select patient_id, sample_rank, first_dose_date, last_followup_date from patient_facts
),
infusion_events as (
    select w.sample_rank, w.first_dose_date, 'infusion' as kind, i.dose_date as event_date,
           'course ' || i.course || ', ' || printf('%g', i.dose_mg) || ' mg' as detail
    from infusions i
    join windows w using (patient_id)
    where i.dose_date between w.first_dose_date and w.last_followup_date
),
relapse_events as (
    select w.sample_rank, w.first_dose_date, 'relapse' as kind, r.onset_date as event_date,
           coalesce(r.severity, 'severity not recorded') as detail
    from relapses r
    join windows w using (patient_id)
    where r.onset_date between w.first_dose_date and w.last_followup_date
),
adverse_event_events as (
    select w.sample_rank, w.first_dose_date, 'adverse event' as kind, a.onset_date as event_date,
           a.term || ', grade ' || a.grade || case when a.serious then ', serious' else '' end as detail
    from adverse_events a
    join windows w using (patient_id)
    where a.onset_date between w.first_dose_date and w.last_followup_date
),
scan_events as (
    select w.sample_rank, w.first_dose_date, 'active MRI scan' as kind, m.scan_date as event_date,
           m.new_t2_lesions || ' new T2, ' || m.gd_enhancing_lesions || ' Gd+ lesions' as detail
    from mri m
    join windows w using (patient_id)
    where m.scan_date > w.first_dose_date and m.scan_date <= w.last_followup_date
      and (m.new_t2_lesions >= 1 or m.gd_enhancing_lesions >= 1)
),
events as (
    select * from infusion_events
    union all select * from relapse_events
    union all select * from adverse_event_events
    union all select * from scan_events
)
select sample_rank, kind, months(event_date - first_dose_date) as months, detail
from events
order by sample_rank, months, kind
