-- One row per EDSS change value × subtype among the selected patients with a follow-up EDSS: how many
-- patients had that change (the waterfall as counts, for the shared view).
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select edss_change, subtype, count(*) as patients
    from selected_patients($filters)
    where edss_change is not null
    group by all
)
select * from final order by edss_change desc, subtype
