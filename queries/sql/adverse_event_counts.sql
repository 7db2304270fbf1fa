-- One row per (term, relation, grade, serious) among adverse events inside the selected patients' windows:
-- the number of events (the events inside their windows: adverse_event_facts.sql, built once).
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select a.term, a.relation, a.grade, a.serious, count(*) as events
    from adverse_event_facts a
    semi join selected_patients($filters) s using (sample_rank)
    group by all
)
select * from final order by term, relation, grade, serious
