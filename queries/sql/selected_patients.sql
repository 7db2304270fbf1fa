-- Table macro, one row per selected patient: the patients row plus follow-up, dose count and the other
-- per-patient facts of patient_facts (built when the dataset is opened), and whether the patient had
-- an IgG value (igg_tested) and one below the threshold (igg_low) inside the window.
-- filters: the selection as one struct (queries.filters.Filters): followup_min, followup_max (months),
-- doses_min, doses_max (infusions inside the window), subtypes, sexes, sites (lists), age_min, age_max
-- (age at first dose), igg_threshold (g/L); null = no bound, bounds inclusive. A new filter is a new
-- field of Filters and one more line here.
create or replace macro selected_patients(filters) as table
select
    * exclude (igg_min),
    igg_min is not null as igg_tested,
    igg_min < struct_extract(filters, 'igg_threshold') as igg_low
from patient_facts
-- follow-up and doses are never null (patient_facts.sql), so an absent bound can be an infinite one:
-- DuckDB evaluates these comparisons about a fifth faster than "bound is null or …"
where followup_months >= coalesce(struct_extract(filters, 'followup_min'), '-infinity'::double)
  and followup_months <= coalesce(struct_extract(filters, 'followup_max'), 'infinity'::double)
  and doses >= coalesce(struct_extract(filters, 'doses_min'), -2147483648)
  and doses <= coalesce(struct_extract(filters, 'doses_max'), 2147483647)
  and (struct_extract(filters, 'subtypes') is null
       or coalesce(list_contains(struct_extract(filters, 'subtypes'), subtype), false))
  and (struct_extract(filters, 'sexes') is null
       or coalesce(list_contains(struct_extract(filters, 'sexes'), sex), false))
  and (struct_extract(filters, 'sites') is null
       or coalesce(list_contains(struct_extract(filters, 'sites'), site), false))
  and (struct_extract(filters, 'age_min') is null
       or age_at_first_dose >= struct_extract(filters, 'age_min'))
  and (struct_extract(filters, 'age_max') is null
       or age_at_first_dose <= struct_extract(filters, 'age_max'))
