-- One row per selected patient, in the order of their ids: the adjusted models' values — months to the first
-- relapse inside the window or to the last follow-up (rfs_months, rfs_event), relapses inside the
-- window, patient-years, and the covariates (age at first dose, male sex, baseline EDSS, subtype,
-- disease duration). The subtype comes as its position in $known_subtypes (subtype_code), text only
-- for a subtype not in that list (other_subtype, else null), and sex as male: text is the slowest
-- part of handing 30,000 rows to pandas.
-- $filters: the selection (one struct, see selected_patients.sql); $known_subtypes: the contract's
-- subtypes (a list).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select
        patient_id,
        list_position($known_subtypes, subtype) as subtype_code,
        case when list_position($known_subtypes, subtype) is null then subtype end as other_subtype,
        rfs_months, rfs_event, relapses, patient_years, age_at_first_dose,
        coalesce(sex = 'M', false) as male, baseline_edss, disease_duration_years
    from selected
)
select * exclude (patient_id) from final order by patient_id
