-- One row per EDSS value over time (edss_values.sql) of a fixed sample of the selected patients: at most
-- $max_patients, the first by sha256 of their id (the same patients as patient_sample.sql), for the
-- per-patient lines of the trajectory chart.
-- $filters: the selection (one struct, see selected_patients.sql); $max_patients: the sample size.
with sampled as (
    select patient_id
    from selected_patients($filters)
    order by sha256(patient_id)
    limit $max_patients
),
final as (
    select v.*
    from edss_values($filters) v
    semi join sampled s using (patient_id)
)
select * from final order by subtype, patient_id, months
