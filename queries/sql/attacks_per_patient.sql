-- One row per number of attacks k >= 1: how many selected patients had exactly k relapses in their window.
-- $filters: the selection (one struct, see selected_patients.sql).
with outcomes as (
    select *
    from selected_patients($filters)
),
final as (
    select relapses as attacks, count(*) as patients
    from outcomes
    where relapses > 0
    group by relapses
)
select * from final order by attacks
