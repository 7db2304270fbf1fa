-- One row per selected patient with a CDW-3m event (cdw_facts.sql, built once), in the order of
-- (subtype, patient id): months to the worsening and to its confirmation and RAW (relapse-associated)
-- for CDW-3m ($confirm_3m days) and CDW-6m ($confirm_6m days; null without a CDW-6m event: a CDW-6m
-- event is always a CDW-3m event, not always at the same worsening).
-- $filters: the selection (one struct, see selected_patients.sql); $confirm_3m, $confirm_6m: D of
-- the two definitions (84, 168).
with selected as (
    select patient_id, subtype, sample_rank
    from selected_patients($filters)
),
events as (
    select s.patient_id, s.subtype, f.*
    -- joined this way round, DuckDB builds on the selection and reads only its rows of the facts
    from cdw_facts f
    join selected s using (sample_rank)
    where f.event
),
-- one row per patient: both definitions' events side by side, for those with a CDW-3m event
final as (
    select
        patient_id,
        subtype,
        any_value(months) filter (confirm_days = $confirm_3m) as months_3m,
        any_value(confirm_months) filter (confirm_days = $confirm_3m) as confirm_months_3m,
        any_value(relapse_associated) filter (confirm_days = $confirm_3m) as relapse_associated_3m,
        any_value(months) filter (confirm_days = $confirm_6m) as months_6m,
        any_value(confirm_months) filter (confirm_days = $confirm_6m) as confirm_months_6m,
        any_value(relapse_associated) filter (confirm_days = $confirm_6m) as relapse_associated_6m
    from events
    group by patient_id, subtype
    having count(*) filter (confirm_days = $confirm_3m) > 0
)
select * from final order by subtype, patient_id
