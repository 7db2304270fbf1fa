-- One row per selected patient with a CDW-3m event (cdw_event_facts, built once with cdw_facts.sql),
-- in the order of (subtype, patient id): months to the worsening and to its confirmation and RAW
-- (relapse-associated) for CDW-3m and CDW-6m (null without a CDW-6m event: a CDW-6m event is always
-- a CDW-3m event, not always at the same worsening).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select patient_id, subtype, sample_rank
    from selected_patients($filters)
),
final as (
    select s.patient_id, s.subtype, e.* exclude (sample_rank)
    -- joined this way round, DuckDB builds on the selection and reads only its rows of the facts
    from cdw_event_facts e
    join selected s using (sample_rank)
)
select * from final order by subtype, patient_id
