-- One row per selected patient: the Table 1 variables (age, sex, disease duration, baseline EDSS,
-- prior treatments, follow-up months and doses inside the window), by subtype.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select
        patient_id, subtype, age_at_first_dose, sex, disease_duration_years, baseline_edss,
        prior_treatments, followup_months, doses
    from selected
)
select * from final order by subtype, patient_id
