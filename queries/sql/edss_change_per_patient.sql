-- One row per selected patient with a follow-up EDSS, for a fixed sample of at most $max_patients (the
-- first by sha256 of their id, i.e. by sample_rank): baseline, latest EDSS, change and class, and the
-- patient's rank in the waterfall of every such patient (largest increase first; ties by subtype, then
-- id). sampled = true when more patients have a follow-up EDSS than are returned.
-- $filters: the selection (one struct, see selected_patients.sql); $max_patients: the sample size.
with assessed as (
    -- every patient's sort keys only (pid follows the id's order); the sample's other columns are
    -- read for the sample alone
    select
        sample_rank,
        row_number() over (order by edss_change desc, subtype, pid) as rank,
        count(*) over () > $max_patients as sampled
    from selected_patients($filters)
    where edss_change is not null
),
sampled as (
    select * from assessed order by sample_rank limit $max_patients
),
final as (
    select p.patient_id, p.subtype, p.baseline_edss, p.edss_last, p.edss_change, p.edss_class, s.rank,
           s.sampled
    from sampled s
    join patient_facts p using (sample_rank)
)
select * from final order by subtype, patient_id
