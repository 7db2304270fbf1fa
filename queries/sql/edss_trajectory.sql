-- One row per EDSS value of a selected patient over time: the baseline (patients.baseline_edss) at month 0,
-- then each follow-up assessment inside the window (assessment_date > first_dose_date and
-- <= last_followup_date) at its months since the first dose (days / 30.4375).
-- $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min, $age_max.
with selected as (
    select *
    from selected_patients(
        $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min,
        $age_max
    )
),
baseline as (
    select s.patient_id, s.subtype, 0.0 as months, s.baseline_edss as edss, true as baseline
    from selected s
),
follow_up as (
    select
        s.patient_id,
        s.subtype,
        (e.assessment_date - s.first_dose_date) / 30.4375 as months,
        e.edss,
        false as baseline
    from edss e
    join selected s using (patient_id)
    where e.assessment_date > s.first_dose_date and e.assessment_date <= s.last_followup_date
),
final as (
    select * from baseline
    union all
    select * from follow_up
)
select * from final order by subtype, patient_id, months
