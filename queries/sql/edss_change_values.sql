-- One row per subtype of the selected patients with a follow-up EDSS (the null subtype last): the
-- list of their EDSS changes (latest − baseline) in patient-id order (pid), the input of the change
-- tests and intervals (a few rows to move to Python, not one per patient).
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select subtype, list(edss_change order by pid) as edss_change
    from selected_patients($filters)
    where edss_change is not null
    group by subtype
)
select * from final order by subtype nulls last
