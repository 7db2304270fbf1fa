-- One row per selected patient: the patient's outcomes (relapse-free time, EDSS change, MRI, IgG, AEs).
-- $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min, $age_max:
-- the selection; $igg_threshold: g/L.
select *
from patient_outcomes(
    $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min,
    $age_max, $igg_threshold
)
order by subtype, patient_id
