-- One row per selected patient and CDW definition D in $confirm_days, from cdw_facts (cdw_facts.sql,
-- built once: the definition is there): subtype, evaluable (>= 1 EDSS assessment inside the window),
-- event, months (to the worsening, or censored at the last assessment), confirm_months and
-- relapse_associated (RAW; null without an event); months null when not evaluable.
-- $filters: the selection (one struct, see selected_patients.sql); $confirm_days: the list of D
-- (84 for CDW-3m, 168 for CDW-6m).
with selected as (
    select patient_id, subtype, sample_rank
    from selected_patients($filters)
),
definitions as (
    select unnest($confirm_days) as confirm_days
),
final as (
    select
        d.confirm_days,
        s.patient_id,
        s.subtype,
        f.sample_rank is not null as evaluable,
        coalesce(f.event, false) as event,
        f.months,
        f.confirm_months,
        f.relapse_associated
    from selected s
    cross join definitions d
    left join cdw_facts f on f.sample_rank = s.sample_rank and f.confirm_days = d.confirm_days
)
select * from final order by confirm_days, subtype, patient_id
