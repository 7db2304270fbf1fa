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
join selected_patients(filters) s using (patient_id)
where l.test = lab_test
