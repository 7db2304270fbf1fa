-- One row per selected patient with a follow-up EDSS: the subtype and the EDSS change (latest −
-- baseline), the input of the change tests.
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select patient_id, subtype, edss_change
    from selected_patients($filters)
    where edss_change is not null
)
select * from final order by subtype, patient_id
