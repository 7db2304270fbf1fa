-- One row per EDSS value of a selected patient over time: the baseline (patients.baseline_edss) at month 0,
-- then each follow-up assessment inside the window (assessment_date > first_dose_date and
-- <= last_followup_date) at its months since the first dose (edss_values.sql).
-- $filters: the selection (one struct, see selected_patients.sql).
select * from edss_values($filters) order by subtype, patient_id, months
