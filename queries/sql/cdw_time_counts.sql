-- The Kaplan–Meier input of time to CDW (cdw_facts.sql, built once), for each definition D in
-- $confirm_days: one row per distinct (subtype, months, event) among the selected evaluable patients
-- (evaluable true) with their number of patients and of RAW events among them, the same rows pooled
-- over the subtypes (pooled true, subtype null), and per subtype and pooled one row of the patients who
-- are not evaluable (no EDSS assessment inside the window: evaluable false, months null, event false;
-- absent when there are none).
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
counted as (
    select
        confirm_days, grouping(subtype) = 1 as pooled, subtype, true as evaluable, months, event,
        cast(count(*) as integer) as patients,
        cast(count(*) filter (relapse_associated) as integer) as raw
    from evaluable
    group by grouping sets ((confirm_days, subtype, months, event), (confirm_days, months, event))
),
-- the not evaluable: each group's selected patients less its evaluable ones
totals as (
    select grouping(subtype) = 1 as pooled, subtype, cast(count(*) as integer) as patients
    from selected
    group by grouping sets ((subtype), ())
),
evaluated as (
    select confirm_days, pooled, subtype, cast(sum(patients) as integer) as patients
    from counted
    group by all
),
not_evaluable as (
    select d.confirm_days, t.pooled, t.subtype, false as evaluable, cast(null as double) as months,
        false as event, t.patients - coalesce(e.patients, 0) as patients, cast(0 as integer) as raw
    from totals t
    cross join (select unnest($confirm_days) as confirm_days) d
    left join evaluated e on e.confirm_days = d.confirm_days and e.pooled = t.pooled
        and e.subtype is not distinct from t.subtype
),
final as (
    select * from counted union all select * from not_evaluable where patients > 0
)
select * from final order by confirm_days, pooled desc, subtype, evaluable, months, event
