-- One row for the whole cohort (no filter): the ranges and categories that set the sidebar widgets'
-- limits and defaults: follow-up months, doses and age at first dose (min, max), the subtypes, sexes
-- and sites present (nulls left out; [] when none), and the number of patients. One row, not the patients' rows: the
-- app reads it on every run.
-- No parameters.
select
    min(followup_months) as followup_min,
    max(followup_months) as followup_max,
    min(doses) as doses_min,
    max(doses) as doses_max,
    min(age_at_first_dose) as age_min,
    max(age_at_first_dose) as age_max,
    coalesce(list(distinct subtype) filter (subtype is not null), []) as subtypes,
    coalesce(list(distinct sex) filter (sex is not null), []) as sexes,
    coalesce(list(distinct site) filter (site is not null), []) as sites,
    count(*) as total
from patient_facts
