-- Table macro, one row per selected patient: the patients row plus follow-up, dose count and the other
-- per-patient facts of patient_facts (built when the dataset is opened).
-- followup_min, followup_max: follow-up months; doses_min, doses_max: infusions inside the window;
-- subtypes, sexes, sites: lists (null = all); age_min, age_max: age at first dose. Bounds are inclusive.
create or replace macro selected_patients(
    followup_min, followup_max, doses_min, doses_max, subtypes, sexes, sites, age_min, age_max
) as table
select *
from patient_facts
where (followup_min is null or followup_months >= followup_min)
  and (followup_max is null or followup_months <= followup_max)
  and (doses_min is null or doses >= doses_min)
  and (doses_max is null or doses <= doses_max)
  and (subtypes is null or coalesce(list_contains(subtypes, subtype), false))
  and (sexes is null or coalesce(list_contains(sexes, sex), false))
  and (sites is null or coalesce(list_contains(sites, site), false))
  and (age_min is null or age_at_first_dose >= age_min)
  and (age_max is null or age_at_first_dose <= age_max)
