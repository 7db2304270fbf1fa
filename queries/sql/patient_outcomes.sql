-- Table macro, one row per selected patient: every per-patient outcome of the contract's definitions,
-- each counted inside the patient's window (relapse-free time, EDSS change and class, MRI, IgG, AEs).
-- The selection parameters of selected_patients, then igg_threshold: g/L below which an IgG value is low.
create or replace macro patient_outcomes(
    followup_min, followup_max, doses_min, doses_max, subtypes, sexes, sites, age_min, age_max,
    igg_threshold
) as table
select
    * exclude (igg_min),
    igg_min is not null as igg_tested,
    igg_min < igg_threshold as igg_low
from selected_patients(
    followup_min, followup_max, doses_min, doses_max, subtypes, sexes, sites, age_min, age_max
)
