-- One row per selected patient: months from the first dose to the first relapse inside the window
-- (event) or to the last follow-up (censored), the input of the Kaplan–Meier curves.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select patient_id, subtype, rfs_months, rfs_event
    from selected
)
select * from final order by subtype, patient_id
