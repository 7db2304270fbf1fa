-- Built on the first query that names one of its tables (the safety page; queries/dataset.py
-- ON_FIRST_USE), in the compressed facts database. A filter change then joins these rows with the
-- selected patients instead of reading the labs table and working out every value's window again.
-- Rows carry the patient's sample_rank (patient_facts.sql), a dense integer key the selection joins
-- on (several times faster than the text id), which is also the order of the charts' fixed sample.
-- Test, unit and subtype are stored as enums (a small integer each): a filter on the test reads and
-- compares integers, and a query reads these columns for its few hundred thousand values about
-- three times faster than text; the queries return them as text.
-- No parameters.
--
create or replace type lab_test as enum (
    select distinct test from labs where test is not null order by test
);
create or replace type lab_unit as enum (
    select distinct unit from labs where unit is not null order by unit
);
create or replace type lab_subtype as enum (
    select distinct subtype from patient_facts where subtype is not null order by subtype
);
-- lab_facts: one row per laboratory value inside its patient's window (after the first-dose day, up
-- to last follow-up) with its 6-month interval since the first dose (months_from = 0, 6, 12, …); the
-- patient's subtype (read here, the join with the selection carries no column for every value);
-- whether the row is the first of its patient, test and interval (first_in_interval), which no filter
-- changes: counting those rows counts patients, without a distinct count over the patients on every
-- filter change; and the patient and test as one number (patient_test). Sorted by test, so that a
-- query for one test skips the other tests' row groups.
create or replace table lab_facts as
with inside as (
    select
        p.sample_rank,
        cast(p.subtype as lab_subtype) as subtype,
        cast(l.test as lab_test) as test,
        l.sample_date,
        cast(floor(months(l.sample_date - p.first_dose_date) / 6) * 6 as integer) as months_from,
        l.value,
        cast(l.unit as lab_unit) as unit
    from labs l
    join patient_facts p using (patient_id)
    where l.sample_date > p.first_dose_date
      and l.sample_date <= p.last_followup_date
)
select
    *,
    months_from is distinct from lag(months_from) over patient_test as first_in_interval,
    -- the patient and test as one small number: a join on it with the few patients a chart draws
    -- filters this table's rows as it reads them (a join on the two columns reads every value of the
    -- tests)
    cast(sample_rank as bigint) * len(enum_range(test)) + enum_code(test) as patient_test
from inside
window patient_test as (partition by test, sample_rank order by months_from)
order by test
;
-- lab_facts_by_patient: one row per patient and test with a value in lab_facts: how many values and
-- the lowest. The charts' totals, their fixed sample and the patients with a value below a bound come
-- from these few narrow rows (a filter change joins a fifth of lab_facts' rows), and only the values
-- of the patients drawn are read from lab_facts.
create or replace table lab_facts_by_patient as
select test, sample_rank, cast(count(*) as integer) as n_values, min(value) as min_value
from lab_facts
group by test, sample_rank
order by test, sample_rank
