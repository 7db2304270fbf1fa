-- One row per number of attacks k >= 1: how many selected patients had exactly k relapses in their window.
-- $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min, $age_max.
with outcomes as (
    select *
    from patient_outcomes(
        $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min,
        $age_max, null
    )
),
final as (
    select relapses as attacks, count(*) as patients
    from outcomes
    where relapses > 0
    group by relapses
)
select * from final order by attacks
