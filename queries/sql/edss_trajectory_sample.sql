-- One row per EDSS value over time (edss_values.sql: the baseline at month 0, then each follow-up
-- assessment inside the window) of a fixed sample of the selected patients: at most $max_patients, the
-- first by sha256 of their id, i.e. by sample_rank (the same patients as patient_sample.sql), for the
-- per-patient lines of the trajectory chart.
-- $filters: the selection (one struct, see selected_patients.sql); $max_patients: the sample size.
with sampled as (
    select sample_rank, patient_id, subtype
    from selected_patients($filters)
    order by sample_rank
    limit $max_patients
),
final as (
    select s.patient_id, s.subtype, v.months, v.edss, v.visit = 0 as baseline
    from edss_values v
    join sampled s using (sample_rank)
)
select * from final order by subtype, patient_id, months, edss
