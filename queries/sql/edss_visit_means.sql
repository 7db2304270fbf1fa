-- One row per subtype × visit (months 0, 6, 12, …) of the selected patients: the mean EDSS at that
-- visit and the patients it rests on. Month 0 is the baseline; each follow-up value goes to the nearest
-- multiple of 6 months, at least 6; a patient counts once per visit, as the mean of their values there
-- (edss_visit_values, built with edss_values.sql).
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select s.subtype, v.visit, avg(v.edss) as mean, count(*) as patients
    from edss_visit_values v
    join selected_patients($filters) s using (sample_rank)
    group by all
)
select * from final order by subtype, visit
