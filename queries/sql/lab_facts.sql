-- Built on the first query that reads a lab test's values (the safety page; queries/dataset.py
-- ON_FIRST_USE), in the compressed facts database. One row per laboratory value inside its patient's
-- window (after the first-dose day, up to last follow-up) with its 6-month interval since the first
-- dose (months_from = 0, 6, 12, …): a filter change then joins these rows with the selected patients
-- instead of reading the labs table and working out every value's window again. Rows carry the
-- patient's sample_rank (patient_facts.sql), a dense integer key the selection joins on (several
-- times faster than the text id), which is also the order of the charts' fixed sample; the patient's
-- subtype (read here, the join with the selection carries no column for every value); and whether the
-- row is the first of its patient and test (first_of_test) and of its patient, test and interval
-- (first_in_interval), which no filter changes: counting those rows counts patients, without a
-- distinct count over the patients on every filter change. Sorted by test, so that a query for one
-- test skips the other tests' row groups.
-- No parameters.
create or replace table lab_facts as
with inside as (
    select
        p.sample_rank,
        p.subtype,
        l.test,
        l.sample_date,
        cast(floor(months(l.sample_date - p.first_dose_date) / 6) * 6 as integer) as months_from,
        l.value,
        l.unit
    from labs l
    join patient_facts p using (patient_id)
    where l.sample_date > p.first_dose_date
      and l.sample_date <= p.last_followup_date
)
select
    *,
    row_number() over patient_test = 1 as first_of_test,
    months_from is distinct from lag(months_from) over patient_test as first_in_interval
from inside
window patient_test as (partition by test, sample_rank order by months_from)
order by test
