-- One row per EDSS value of a selected patient over time (edss_values.sql): the baseline
-- (patients.baseline_edss) at month 0, then each follow-up assessment inside the window
-- (assessment_date > first_dose_date and <= last_followup_date) at its months since the first dose.
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select s.patient_id, s.subtype, v.months, v.edss, v.visit = 0 as baseline
    from edss_values v
    join selected_patients($filters) s using (sample_rank)
)
select * from final order by subtype, patient_id, months, edss
