-- The swimmer plot's rows for a fixed sample of the selected patients (at most $max_patients, the
-- first by sample_rank, i.e. by sha256 of their id: the sample the charts draw): one row per event of a
-- sampled patient inside the window (an infusion, a relapse, an adverse event or an active MRI scan,
-- >= 1 new T2 or Gd-enhancing lesion; the rows of swimmer_event_facts.sql, which defines the events
-- and their windows) with its months since the first dose and a detail, and one row with kind null
-- for a sampled patient without any event; every row carries its patient's lane: subtype, follow-up
-- months and doses in the window.
-- $filters: the selection (one struct, see selected_patients.sql); $max_patients: the sample size.
with sampled as (
    select patient_id, subtype, followup_months, doses, sample_rank
    from selected_patients($filters)
    order by sample_rank
    limit $max_patients
),
final as (
    select s.patient_id, s.subtype, s.followup_months, s.doses, e.kind, e.months, e.detail
    from sampled s
    left join swimmer_event_facts e using (sample_rank)
)
select * from final order by subtype, patient_id, months, kind
