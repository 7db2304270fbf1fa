-- One row per point of one selected patient's EDSS timeline, in months since the first dose: the
-- baseline EDSS (kind 'baseline', month 0), each follow-up assessment inside the window (kind
-- 'edss') and each relapse inside the window (kind 'relapse', edss null), all from edss_values.sql.
-- No row when the patient is not selected.
-- $filters: the selection (one struct, see selected_patients.sql); $patient_id: the patient.
with selected as (
    select * from selected_patients($filters) where patient_id = $patient_id
),
assessment as (
    select
        s.patient_id,
        case when v.visit = 0 then 'baseline' else 'edss' end as kind,
        v.months,
        v.edss
    from edss_values v
    join selected s using (sample_rank)
),
relapse as (
    select s.patient_id, 'relapse' as kind, r.months, cast(null as double) as edss
    from relapse_values r
    join selected s using (sample_rank)
),
final as (
    select * from assessment
    union all select * from relapse
)
select * from final order by months, kind, edss
