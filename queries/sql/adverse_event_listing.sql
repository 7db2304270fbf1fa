-- One row per adverse event inside a selected patient's window: the event, its patient, and the days
-- since the patient's last infusion on or before the onset (inside the window; null when none).
-- $filters: the selection (one struct, see selected_patients.sql).
-- The events inside their windows and their days since the last infusion come from
-- adverse_event_facts (adverse_event_facts.sql), built once; the selection joins them on sample_rank.
with final as (
    select
        a.patient_id,
        s.subtype,
        a.onset_date,
        a.term,
        a.relation,
        a.grade,
        a.serious,
        a.outcome,
        a.infection,
        a.opportunistic,
        a.course,
        a.last_dose_date,
        a.days_since_last_infusion
    from adverse_event_facts a
    join selected_patients($filters) s using (sample_rank)
)
select * from final order by onset_date, patient_id, term
