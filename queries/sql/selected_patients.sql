-- Table macro, one row per selected patient: the patients row plus follow-up and dose count in the window.
-- followup_min, followup_max: follow-up months; doses_min, doses_max: infusions inside the window;
-- subtypes, sexes, sites: lists (null = all); age_min, age_max: age at first dose. Bounds are inclusive.
create or replace macro selected_patients(
    followup_min, followup_max, doses_min, doses_max, subtypes, sexes, sites, age_min, age_max
) as table
with dose_counts as (
    select i.patient_id, count(*) as doses
    from infusions i
    join patients p using (patient_id)
    where i.dose_date between p.first_dose_date and p.last_followup_date
    group by i.patient_id
),
windowed as (
    select
        p.*,
        (p.last_followup_date - p.first_dose_date) as followup_days,
        (p.last_followup_date - p.first_dose_date) / 30.4375 as followup_months,
        (p.last_followup_date - p.first_dose_date) / 365.25 as patient_years,
        coalesce(d.doses, 0) as doses
    from patients p
    left join dose_counts d using (patient_id)
),
final as (
    select *
    from windowed
    where (followup_min is null or followup_months >= followup_min)
      and (followup_max is null or followup_months <= followup_max)
      and (doses_min is null or doses >= doses_min)
      and (doses_max is null or doses <= doses_max)
      and (subtypes is null or coalesce(list_contains(subtypes, subtype), false))
      and (sexes is null or coalesce(list_contains(sexes, sex), false))
      and (sites is null or coalesce(list_contains(sites, site), false))
      and (age_min is null or age_at_first_dose >= age_min)
      and (age_max is null or age_at_first_dose <= age_max)
)
select * from final
