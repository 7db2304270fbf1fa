-- Built on the first query that reads a lab test's values (the safety page; queries/dataset.py
-- ON_FIRST_USE), in the compressed facts database. One row per laboratory value inside its patient's
-- window (after the first-dose day, up to last follow-up) with its months since the first dose: a
-- filter change then joins these rows with the selected patients instead of reading the labs table
-- and working out every value's window again. Sorted by test, so that a query for one test skips the
-- other tests' row groups.
-- No parameters.
create or replace table lab_facts as
select
    l.patient_id,
    l.test,
    l.sample_date,
    months(l.sample_date - p.first_dose_date) as months,
    l.value,
    l.unit
from labs l
join patients p using (patient_id)
where l.sample_date > p.first_dose_date
  and l.sample_date <= p.last_followup_date
order by l.test
