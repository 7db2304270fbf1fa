-- One row per subtype × visit (months 0, 6, 12, …) of the selected patients: the mean EDSS at that
-- visit and the patients it rests on. Month 0 is the baseline; each follow-up value goes to the nearest
-- multiple of 6 months, at least 6; a patient counts once per visit, as the mean of their values there.
-- $filters: the selection (one struct, see selected_patients.sql).
with visits as (
    select
        patient_id,
        subtype,
        edss,
        case when baseline then 0 else cast(greatest(floor(months / 6 + 0.5), 1) * 6 as integer) end
            as visit
    from edss_values($filters)
),
per_patient as (
    select subtype, visit, patient_id, avg(edss) as edss
    from visits
    group by all
),
final as (
    select subtype, visit, avg(edss) as mean, count(*) as patients
    from per_patient
    group by all
)
select * from final order by subtype, visit
