-- One row per (term, relation, grade, serious) among adverse events inside the selected patients' windows:
-- the number of events.
-- $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min, $age_max.
with selected as (
    select *
    from selected_patients(
        $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min,
        $age_max
    )
),
final as (
    select a.term, a.relation, a.grade, a.serious, count(*) as events
    from adverse_events a
    join selected s using (patient_id)
    where a.onset_date between s.first_dose_date and s.last_followup_date
    group by all
)
select * from final order by term, relation, grade, serious
