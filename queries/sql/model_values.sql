-- One row per selected patient, in the order of their ids: the adjusted models' values — months to the first
-- relapse inside the window or to the last follow-up (rfs_months, rfs_event), relapses inside the
-- window, patient-years, and the covariates (age at first dose, sex, baseline EDSS, subtype,
-- disease duration).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select
        patient_id, subtype, rfs_months, rfs_event, relapses, patient_years, age_at_first_dose,
        sex, baseline_edss, disease_duration_years
    from selected
)
select * exclude (patient_id) from final order by patient_id
