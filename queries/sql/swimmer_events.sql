-- One row per event of a sampled selected patient inside the window: an infusion, a relapse, an adverse
-- event or an active MRI scan (>= 1 new T2 or Gd-enhancing lesion), with its months since the first dose
-- and a detail (the rows of swimmer_event_facts.sql, which defines the events and their windows).
-- $filters: the selection (one struct, see selected_patients.sql).
-- $max_patients: at most this many patients, the first by sample_rank (sha256 of their id: the sample
-- the charts draw).
with sampled as (
    select patient_id, subtype, sample_rank
    from selected_patients($filters)
    order by sample_rank
    limit $max_patients
),
final as (
    select s.patient_id, s.subtype, e.kind, e.months, e.detail
    from swimmer_event_facts e
    join sampled s using (sample_rank)
)
select * from final order by subtype, patient_id, months, kind
