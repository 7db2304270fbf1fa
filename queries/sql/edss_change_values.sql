-- One row per selected patient with a follow-up EDSS, in the order of (subtype, patient id): the
-- subtype and the EDSS change (latest − baseline), the input of the change tests and intervals.
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select patient_id, subtype, edss_change
    from selected_patients($filters)
    where edss_change is not null
)
select subtype, edss_change from final order by subtype, patient_id
