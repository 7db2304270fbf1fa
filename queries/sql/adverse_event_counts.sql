-- One row per (term, relation, grade, serious) among adverse events inside the selected patients' windows:
-- the number of events.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select a.term, a.relation, a.grade, a.serious, count(*) as events
    from adverse_events a
    join selected s using (patient_id)
    where a.onset_date between s.first_dose_date and s.last_followup_date
    group by all
)
select * from final order by term, relation, grade, serious
