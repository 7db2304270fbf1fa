-- Table macro, one row per laboratory value of the given tests inside a selected patient's window
-- (after the first-dose day, up to last follow-up): the patient's sample_rank and subtype, the test,
-- the value, its date and unit, its 6-month interval since the first dose (months_from), and whether
-- it is the first of its patient and test in that interval (first_in_interval). Reads lab_facts
-- (built on first use), which holds every value inside its window, joined with the selection on the
-- patient's sample_rank; the patient's id is left to the few rows a chart draws.
-- filters: the selection struct of selected_patients; lab_tests: the lab tests (a list, e.g.
-- ['IgG', 'platelets']).
create or replace macro lab_values_in_window(filters, lab_tests) as table
select
    l.sample_rank,
    l.subtype,
    l.test,
    l.sample_date,
    l.months_from,
    l.value,
    l.unit,
    l.first_in_interval
from lab_facts l
join (select sample_rank from selected_patients(filters)) s using (sample_rank)
where list_contains(lab_tests, l.test)
