-- One row per number of relapses inside the window (0 = relapse-free) × subtype of the selected
-- patients: how many patients had exactly that many (only combinations that occur).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select relapses as attacks, subtype, count(*) as patients
    from selected
    group by all
)
select * from final order by attacks, subtype
