-- Table macro, one row per EDSS value of a selected patient over time: the baseline
-- (patients.baseline_edss) at month 0, then each follow-up assessment inside the window
-- (assessment_date > first_dose_date and <= last_followup_date) at its months since the first dose.
-- filters: the selection struct of selected_patients.
create or replace macro edss_values(filters) as table
with selected as (
    select * from selected_patients(filters)
),
baseline as (
    select s.patient_id, s.subtype, 0.0 as months, s.baseline_edss as edss, true as baseline
    from selected s
),
follow_up as (
    select
        s.patient_id,
        s.subtype,
        months(e.assessment_date - s.first_dose_date) as months,
        e.edss,
        false as baseline
    from edss e
    join selected s using (patient_id)
    where e.assessment_date > s.first_dose_date and e.assessment_date <= s.last_followup_date
)
select * from baseline
union all
select * from follow_up
