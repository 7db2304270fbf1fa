-- Table macro, one row per laboratory value of one test inside a selected patient's window (after the
-- first-dose day, up to last follow-up): the value, its unit and the months since first dose. Reads
-- lab_facts (built when the dataset is opened), which holds every value inside its window.
-- filters: the selection struct of selected_patients; lab_test: the lab test (e.g. 'IgG', 'platelets').
create or replace macro lab_values_in_window(filters, lab_test) as table
select
    l.patient_id,
    s.subtype,
    l.test,
    l.sample_date,
    l.months,
    l.value,
    l.unit
from lab_facts l
join (
    -- the selection with each patient's integer key (patient_keys, patient_facts.sql)
    select s.subtype, k.pid
    from selected_patients(filters) s
    join patient_keys k using (patient_id)
) s using (pid)
where l.test = lab_test
