-- Built on the first query that reads it (the safety page; queries/dataset.py ON_FIRST_USE), in the
-- compressed facts database. One row per patient and year of follow-up (interval = 0, 12, 24 … months
-- since the first dose) with a scan inside the window (after the first-dose day, up to last
-- follow-up): the patient's sample_rank (the integer key the selection joins on, patient_facts.sql)
-- and subtype, the scans, and their new T2 and Gd-enhancing lesions (sums; null when none recorded).
-- Sums of a patient's scans add up to the sums of a group's scans, so a filter change only selects
-- and adds these rows (mri_lesions_by_year.sql) instead of reading every scan again.
-- No parameters.
create or replace table mri_facts as
select
    p.sample_rank,
    p.subtype,
    cast(floor(months(m.scan_date - p.first_dose_date) / 12) * 12 as integer) as interval,
    count(*) as scans,
    sum(m.new_t2_lesions) as new_t2_lesions,
    sum(m.gd_enhancing_lesions) as gd_lesions
from mri m
join patient_facts p using (patient_id)
where m.scan_date > p.first_dose_date and m.scan_date <= p.last_followup_date
group by p.sample_rank, p.subtype, interval
