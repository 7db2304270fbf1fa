-- One row per patient of a fixed pseudo-random sample of the selected patients (at most $max_patients,
-- the first by sha256 of their id, i.e. by sample_rank: the same patients on every run), with their
-- subtype, follow-up months and doses in the window, for charts that draw one mark per patient.
-- $filters: the selection (one struct, see selected_patients.sql); $max_patients: the sample size.
with selected as (
    select * from selected_patients($filters)
),
final as (
    select patient_id, subtype, followup_months, doses
    from selected
    order by sample_rank
    limit $max_patients
)
select * from final order by subtype, patient_id
