-- One row per point of one selected patient's EDSS timeline, in months since the first dose: the
-- baseline EDSS (kind 'baseline', month 0), each follow-up assessment inside the window (kind
-- 'edss') and each relapse inside the window (kind 'relapse', edss null). No row when the patient is
-- not selected.
-- $filters: the selection (one struct, see selected_patients.sql); $patient_id: the patient.
with selected as (
    select * from selected_patients($filters) where patient_id = $patient_id
),
baseline as (
    select s.patient_id, 'baseline' as kind, 0.0 as months, s.baseline_edss as edss
    from selected s
),
follow_up as (
    select s.patient_id, 'edss' as kind, months(e.assessment_date - s.first_dose_date) as months,
           e.edss
    from edss e
    join selected s using (patient_id)
    where e.assessment_date > s.first_dose_date and e.assessment_date <= s.last_followup_date
),
relapse as (
    select s.patient_id, 'relapse' as kind, months(r.onset_date - s.first_dose_date) as months,
           cast(null as double) as edss
    from relapses r
    join selected s using (patient_id)
    where r.onset_date between s.first_dose_date and s.last_followup_date
),
final as (
    select * from baseline
    union all select * from follow_up
    union all select * from relapse
)
select * from final order by months, kind
