-- The Kaplan–Meier input of time to CDW (cdw_facts.sql, built once), for each definition D in
-- $confirm_days: one row per distinct (subtype, months, event) among the selected evaluable patients
-- (>= 1 EDSS assessment inside the window) with their number of patients and of RAW events among
-- them, and the same rows pooled over the subtypes (pooled true, subtype null). The patients who are
-- not evaluable are the selection's others (analysis.disability counts them from group_summary).
-- $filters: the selection (one struct, see selected_patients.sql); $confirm_days: the list of D
-- (84 for CDW-3m, 168 for CDW-6m).
with selected as (
    select subtype, sample_rank
    from selected_patients($filters)
),
evaluable as (
    select f.confirm_days, s.subtype, f.months, f.event, f.relapse_associated
    -- joined this way round, DuckDB builds on the selection and reads only its rows of the facts
    from cdw_facts f
    join selected s using (sample_rank)
    where list_contains($confirm_days, f.confirm_days)
),
final as (
    select
        confirm_days,
        grouping(subtype) = 1 as pooled,
        subtype,
        months,
        event,
        cast(count(*) as integer) as patients,
        cast(count(*) filter (relapse_associated) as integer) as raw
    from evaluable
    group by grouping sets ((confirm_days, subtype, months, event), (confirm_days, months, event))
)
select * from final order by confirm_days, pooled desc, subtype, months, event
