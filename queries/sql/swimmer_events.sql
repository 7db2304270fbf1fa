-- One row per event of a selected patient inside the window: an infusion, a relapse, an adverse event or an
-- active MRI scan (>= 1 new T2 or Gd-enhancing lesion), with its months since the first dose and a detail.
-- $filters: the selection (one struct, see selected_patients.sql).
-- $max_patients: at most this many patients, the first by sha256 of their id (the sample the charts draw).
-- Windows per the contract: infusions, relapses, adverse events on or after the first dose; scans after it.
with selected as (
    select * from selected_patients($filters)
    order by sha256(patient_id)
    limit $max_patients
),
infusion_events as (
    select i.patient_id, 'infusion' as kind, i.dose_date as event_date,
           'course ' || i.course || ', ' || printf('%g', i.dose_mg) || ' mg' as detail
    from infusions i
    join selected s using (patient_id)
    where i.dose_date between s.first_dose_date and s.last_followup_date
),
relapse_events as (
    select r.patient_id, 'relapse' as kind, r.onset_date as event_date,
           coalesce(r.severity, 'severity not recorded') as detail
    from relapses r
    join selected s using (patient_id)
    where r.onset_date between s.first_dose_date and s.last_followup_date
),
adverse_event_events as (
    select a.patient_id, 'adverse event' as kind, a.onset_date as event_date,
           a.term || ', grade ' || a.grade || case when a.serious then ', serious' else '' end as detail
    from adverse_events a
    join selected s using (patient_id)
    where a.onset_date between s.first_dose_date and s.last_followup_date
),
scan_events as (
    select m.patient_id, 'active MRI scan' as kind, m.scan_date as event_date,
           m.new_t2_lesions || ' new T2, ' || m.gd_enhancing_lesions || ' Gd+ lesions' as detail
    from mri m
    join selected s using (patient_id)
    where m.scan_date > s.first_dose_date and m.scan_date <= s.last_followup_date
      and (m.new_t2_lesions >= 1 or m.gd_enhancing_lesions >= 1)
),
events as (
    select * from infusion_events
    union all select * from relapse_events
    union all select * from adverse_event_events
    union all select * from scan_events
),
final as (
    select
        s.patient_id,
        s.subtype,
        e.kind,
        months(e.event_date - s.first_dose_date) as months,
        e.detail
    from events e
    join selected s using (patient_id)
)
select * from final order by subtype, patient_id, months, kind
