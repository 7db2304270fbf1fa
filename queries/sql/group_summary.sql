-- One row per group of selected patients (subtype = null is the whole selection): the counts and sums
-- behind every summary figure.
-- $filters: the selection (one struct, see selected_patients.sql).
-- coalesce(count_if(c), 0), not count(*) filter (c): the same counts (count_if is null over no rows or
-- only null conditions), a third faster over 30,000 patients.
with outcomes as (
    select *
    from selected_patients($filters)
),
final as (
    select
        subtype,
        count(*) as patients,
        coalesce(count_if(sex = 'F'), 0)::bigint as female,
        avg(age_at_first_dose) as age_mean,
        avg(followup_months) as followup_months_mean,
        sum(doses) as doses,
        sum(patient_years) as patient_years,
        sum(relapses) as relapses,
        coalesce(count_if(relapses > 0), 0)::bigint as patients_with_relapse,
        count(edss_change) as edss_n,
        coalesce(count_if(edss_class = 'worsened'), 0)::bigint as edss_worsened,
        coalesce(count_if(edss_class = 'stable'), 0)::bigint as edss_stable,
        coalesce(count_if(edss_class = 'improved'), 0)::bigint as edss_improved,
        coalesce(count_if(scanned), 0)::bigint as scanned,
        coalesce(count_if(new_t2), 0)::bigint as new_t2_patients,
        coalesce(count_if(gd), 0)::bigint as gd_patients,
        coalesce(count_if(scanned and edss_change is not null), 0)::bigint as neda_evaluable,
        coalesce(count_if(
            scanned and edss_change is not null and relapses = 0 and edss_class <> 'worsened'
            and not new_t2 and not gd
        ), 0)::bigint as neda,
        coalesce(count_if(igg_tested), 0)::bigint as igg_tested,
        coalesce(count_if(igg_low), 0)::bigint as igg_low,
        sum(adverse_events) as adverse_events,
        coalesce(count_if(adverse_events > 0), 0)::bigint as patients_with_event,
        sum(serious_events) as serious_events,
        sum(opportunistic_infections) as opportunistic_infections,
        coalesce(count_if(followup_months > 0), 0)::bigint as with_followup_time
    from outcomes
    group by grouping sets ((), (subtype))
)
select * from final order by subtype nulls first
