-- One row per subtype × relapse-free time × event among the selected patients: months from the
-- first dose to the first relapse inside the window (event) or to the last follow-up (censored),
-- and how many patients have exactly that time and event — the input of the Kaplan–Meier curves
-- and the log-rank test (lifelines weights).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select subtype, rfs_months, rfs_event, count(*) as patients
    from selected
    group by all
)
select * from final order by subtype, rfs_months, rfs_event
