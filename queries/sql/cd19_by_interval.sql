-- One row per lab test (CD19, IgG), unit and whole month since the start of the patient's last course
-- before the sample (0 = within the first month): samples inside the window (after the first-dose
-- day, up to last follow-up) taken after a course began, the patients they come from, the quartiles
-- of the value, and for CD19 the patients classified and repopulated in that month (CD19 >= 1 when
-- the unit is % of lymphocytes, >= 10 when it is cells/µL; other units unclassified). A course starts
-- at its first dose inside the window; a sample on a dose day belongs to the course before (blood is
-- drawn before the infusion). Every unit of a test has its rows: analysis/bcells.py keeps the one
-- with the most samples, so that a chart has one axis.
-- $filters: the selection (one struct, see selected_patients.sql).
-- The samples, their months and which rows count a patient come from cd19_facts (cd19_facts.sql),
-- built once; the selection joins them on the patient's sample_rank, and they are grouped on series
-- (one number per test and unit).
with grouped as (
    select
        series,
        month,
        any_value(test) as test,
        any_value(unit) as unit,
        count(*) as samples,
        -- count_if: a quarter of the time of count(*) filter (…) here; its HUGEINT cast back
        cast(count_if(first_in_month) as bigint) as patients,
        -- the three quartiles from one sort of the group's values (each as quantile_cont alone)
        quantile_cont(value, [0.25, 0.5, 0.75]) as quartiles,
        cast(count_if(classified_patient) as bigint) as classified_patients,
        cast(count_if(repopulated_patient) as bigint) as repopulated_patients
    from cd19_facts c
    join selected_patients($filters) s using (sample_rank)
    group by series, month
),
final as (
    select
        test, unit, month, samples, patients,
        quartiles[1] as q1, quartiles[2] as median, quartiles[3] as q3,
        classified_patients, repopulated_patients
    from grouped
)
select * from final order by test, unit, month
