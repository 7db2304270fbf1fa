-- Built once when a dataset is opened. One row per patient (all patients, no filter): the patients row plus
-- every per-patient fact the figures need, each counted inside the patient's window. Filters then only
-- select rows of this table, so a filter change never rescans the event tables.
-- No parameters.
create or replace table patient_facts as
with windows as (
    select
        *,
        (last_followup_date - first_dose_date) as followup_days,
        months(last_followup_date - first_dose_date) as followup_months,
        years(last_followup_date - first_dose_date) as patient_years
    from patients
),
dose_counts as (
    select i.patient_id, count(*) as doses
    from infusions i
    join windows w using (patient_id)
    where i.dose_date between w.first_dose_date and w.last_followup_date
    group by i.patient_id
),
relapse_counts as (
    select r.patient_id, count(*) as relapses, min(r.onset_date) as first_relapse_date
    from relapses r
    join windows w using (patient_id)
    where r.onset_date between w.first_dose_date and w.last_followup_date
    group by r.patient_id
),
last_edss as (
    select e.patient_id, arg_max(e.edss, e.assessment_date) as edss_last
    from edss e
    join windows w using (patient_id)
    where e.assessment_date > w.first_dose_date and e.assessment_date <= w.last_followup_date
    group by e.patient_id
),
scans as (
    select
        m.patient_id,
        bool_or(m.new_t2_lesions >= 1) as new_t2,
        bool_or(m.gd_enhancing_lesions >= 1) as gd
    from mri m
    join windows w using (patient_id)
    where m.scan_date > w.first_dose_date and m.scan_date <= w.last_followup_date
    group by m.patient_id
),
igg as (
    select l.patient_id, min(l.value) as igg_min
    from labs l
    join windows w using (patient_id)
    where l.test = 'IgG' and l.sample_date > w.first_dose_date and l.sample_date <= w.last_followup_date
    group by l.patient_id
),
events as (
    select
        a.patient_id,
        count(*) as adverse_events,
        count(*) filter (a.serious) as serious_events,
        count(*) filter (a.opportunistic) as opportunistic_infections
    from adverse_events a
    join windows w using (patient_id)
    where a.onset_date between w.first_dose_date and w.last_followup_date
    group by a.patient_id
),
joined as (
    select
        w.*,
        coalesce(d.doses, 0) as doses,
        coalesce(r.relapses, 0) as relapses,
        r.first_relapse_date,
        months(coalesce(r.first_relapse_date, w.last_followup_date) - w.first_dose_date)
            as rfs_months,
        r.first_relapse_date is not null as rfs_event,
        e.edss_last,
        e.edss_last - w.baseline_edss as edss_change,
        m.patient_id is not null as scanned,
        m.new_t2,
        m.gd,
        g.igg_min,
        coalesce(a.adverse_events, 0) as adverse_events,
        coalesce(a.serious_events, 0) as serious_events,
        coalesce(a.opportunistic_infections, 0) as opportunistic_infections
    from windows w
    left join dose_counts d using (patient_id)
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
),
-- the patients' integer keys:
-- sample_rank: the order in which charts that draw one mark per patient take their fixed
--   pseudo-random sample (the first n selected patients by sha256 of the id), hashed once here
--   rather than for every filter change;
-- pid: by patient_id, for the facts with many rows per patient (engagement): a filter change joins
--   them with the selection on it, about three times faster than on the id
keys as (
    select
        patient_id,
        cast(row_number() over (order by sha256(patient_id), patient_id) as integer) as sample_rank,
        cast(row_number() over (order by patient_id) as integer) as pid
    from patients
)
select f.*, k.sample_rank, k.pid
from final f
join keys k using (patient_id)
