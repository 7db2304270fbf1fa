-- Table macro, one row per selected patient: every per-patient outcome of the contract's definitions,
-- each counted inside the patient's window.
-- The selection parameters of selected_patients, then igg_threshold: g/L below which an IgG value is low.
create or replace macro patient_outcomes(
    followup_min, followup_max, doses_min, doses_max, subtypes, sexes, sites, age_min, age_max,
    igg_threshold
) as table
with selected as (
    select *
    from selected_patients(
        followup_min, followup_max, doses_min, doses_max, subtypes, sexes, sites, age_min, age_max
    )
),
relapse_counts as (
    select r.patient_id, count(*) as relapses, min(r.onset_date) as first_relapse_date
    from relapses r
    join selected s using (patient_id)
    where r.onset_date between s.first_dose_date and s.last_followup_date
    group by r.patient_id
),
last_edss as (
    select e.patient_id, arg_max(e.edss, e.assessment_date) as edss_last
    from edss e
    join selected s using (patient_id)
    where e.assessment_date > s.first_dose_date and e.assessment_date <= s.last_followup_date
    group by e.patient_id
),
scans as (
    select
        m.patient_id,
        bool_or(m.new_t2_lesions >= 1) as new_t2,
        bool_or(m.gd_enhancing_lesions >= 1) as gd
    from mri m
    join selected s using (patient_id)
    where m.scan_date > s.first_dose_date and m.scan_date <= s.last_followup_date
    group by m.patient_id
),
igg as (
    select l.patient_id, bool_or(l.value < igg_threshold) as igg_low
    from labs l
    join selected s using (patient_id)
    where l.test = 'IgG' and l.sample_date > s.first_dose_date and l.sample_date <= s.last_followup_date
    group by l.patient_id
),
events as (
    select
        a.patient_id,
        count(*) as adverse_events,
        count(*) filter (a.serious) as serious_events,
        count(*) filter (a.opportunistic) as opportunistic_infections
    from adverse_events a
    join selected s using (patient_id)
    where a.onset_date between s.first_dose_date and s.last_followup_date
    group by a.patient_id
),
joined as (
    select
        s.patient_id,
        s.subtype,
        s.sex,
        s.site,
        s.age_at_first_dose,
        s.baseline_edss,
        s.disease_duration_years,
        s.prior_treatments,
        s.first_dose_date,
        s.last_followup_date,
        s.followup_days,
        s.followup_months,
        s.patient_years,
        s.doses,
        coalesce(r.relapses, 0) as relapses,
        r.first_relapse_date,
        (coalesce(r.first_relapse_date, s.last_followup_date) - s.first_dose_date) / 30.4375
            as rfs_months,
        r.first_relapse_date is not null as rfs_event,
        e.edss_last,
        e.edss_last - s.baseline_edss as edss_change,
        m.patient_id is not null as scanned,
        m.new_t2,
        m.gd,
        g.patient_id is not null as igg_tested,
        g.igg_low,
        coalesce(a.adverse_events, 0) as adverse_events,
        coalesce(a.serious_events, 0) as serious_events,
        coalesce(a.opportunistic_infections, 0) as opportunistic_infections
    from selected s
    left join relapse_counts r using (patient_id)
    left join last_edss e using (patient_id)
    left join scans m using (patient_id)
    left join igg g using (patient_id)
    left join events a using (patient_id)
),
final as (
    select
        *,
        case
            when edss_change is null then null
            when (baseline_edss = 0 and edss_change >= 1.5)
              or (baseline_edss > 0 and baseline_edss <= 5.5 and edss_change >= 1.0)
              or (baseline_edss > 5.5 and edss_change >= 0.5) then 'worsened'
            when (baseline_edss <= 5.5 and edss_change <= -1.0)
              or (baseline_edss > 5.5 and edss_change <= -0.5) then 'improved'
            else 'stable'
        end as edss_class
    from joined
)
select * from final
