-- Built on the first query that reads one of its tables (queries/dataset.py ON_FIRST_USE: the EDSS
-- page, confirmed disability worsening), in the compressed facts database; all patients, no filter. Three tables, keyed
-- by the patient's integer sample_rank (patient_facts), so that a filter change joins them with the
-- selection on an integer and never reads the edss or relapses tables again; sorted by it, so that a
-- sample's (the first by sample_rank) or one patient's rows come from a few blocks:
-- edss_values: one row per EDSS value of a patient, the baseline (patients.baseline_edss) at month 0
-- and visit 0, then each follow-up assessment inside the window (assessment_date > first_dose_date
-- and <= last_followup_date) at its months since the first dose and its 6-month visit (the nearest
-- multiple of 6 months, at least 6);
-- edss_visit_values: one row per patient and visit, the patient's mean EDSS there (a patient counts
-- once per visit in the visit means);
-- relapse_values: one row per relapse inside its patient's window (onset between the first dose and
-- the last follow-up, both included) at its months since the first dose, for the EDSS timeline.
-- No parameters.
create or replace table edss_values as
select sample_rank, 0.0 as months, baseline_edss as edss, 0 as visit
from patient_facts
union all
select
    p.sample_rank,
    months(e.assessment_date - p.first_dose_date) as months,
    e.edss,
    cast(greatest(floor(months(e.assessment_date - p.first_dose_date) / 6 + 0.5), 1) * 6
        as integer) as visit
from edss e
join patient_facts p using (patient_id)
where e.assessment_date > p.first_dose_date and e.assessment_date <= p.last_followup_date
order by sample_rank;

create or replace table edss_visit_values as
select sample_rank, visit, avg(edss) as edss
from edss_values
group by all;

create or replace table relapse_values as
select p.sample_rank, months(r.onset_date - p.first_dose_date) as months
from relapses r
join patient_facts p using (patient_id)
where r.onset_date between p.first_dose_date and p.last_followup_date
order by sample_rank;
