-- One row per selected patient with a follow-up EDSS, for a fixed sample of at most $max_patients (the
-- first by sha256 of their id, i.e. by sample_rank): baseline, latest EDSS, change and class, and the
-- patient's rank in the waterfall of every such patient (largest increase first; ties by subtype, then
-- id). sampled = true when more patients have a follow-up EDSS than are returned.
-- $filters: the selection (one struct, see selected_patients.sql); $max_patients: the sample size.
with assessed as (
    select
        patient_id, subtype, baseline_edss, edss_last, edss_change, edss_class, sample_rank,
        row_number() over (order by edss_change desc, subtype, patient_id) as rank
    from selected_patients($filters)
    where edss_change is not null
),
final as (
    select * exclude (sample_rank), count(*) over () > $max_patients as sampled
    from assessed
    qualify row_number() over (order by sample_rank) <= $max_patients
)
select * from final order by subtype, patient_id
