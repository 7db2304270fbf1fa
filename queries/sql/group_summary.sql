-- One row per group of selected patients (subtype = null is the whole selection): the counts and sums
-- behind every summary figure.
-- $filters: the selection (one struct, see selected_patients.sql).
with outcomes as (
    select *
    from selected_patients($filters)
),
final as (
    select
        subtype,
        count(*) as patients,
        count(*) filter (sex = 'F') as female,
        avg(age_at_first_dose) as age_mean,
        avg(followup_months) as followup_months_mean,
        sum(doses) as doses,
        sum(patient_years) as patient_years,
        sum(relapses) as relapses,
        count(*) filter (relapses > 0) as patients_with_relapse,
        count(edss_change) as edss_n,
        count(*) filter (edss_class = 'worsened') as edss_worsened,
        count(*) filter (edss_class = 'stable') as edss_stable,
        count(*) filter (edss_class = 'improved') as edss_improved,
        count(*) filter (scanned) as scanned,
        count(*) filter (new_t2) as new_t2_patients,
        count(*) filter (gd) as gd_patients,
        count(*) filter (scanned and edss_change is not null) as neda_evaluable,
        count(*) filter (
            scanned and edss_change is not null and relapses = 0 and edss_class <> 'worsened'
            and not new_t2 and not gd
        ) as neda,
        count(*) filter (igg_tested) as igg_tested,
        count(*) filter (igg_low) as igg_low,
        sum(adverse_events) as adverse_events,
        count(*) filter (adverse_events > 0) as patients_with_event,
        sum(serious_events) as serious_events,
        sum(opportunistic_infections) as opportunistic_infections,
        count(*) filter (followup_months > 0) as with_followup_time
    from outcomes
    group by grouping sets ((), (subtype))
)
select * from final order by subtype nulls first
