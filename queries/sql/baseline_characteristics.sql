-- One row per selected patient: the Table 1 variables (age, sex, disease duration, baseline EDSS,
-- prior treatments, follow-up months and doses inside the window), by subtype. Ordered by subtype and
-- patient id; the id itself is not returned (Table 1 needs none, and 100,000 ids cost time to move).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
)
select
    subtype, age_at_first_dose, sex, disease_duration_years, baseline_edss, prior_treatments,
    followup_months, doses
from selected
order by subtype, pid  -- pid follows patient_id (patient_facts.sql), an integer sorts faster
