-- One row per lab test (CD19, IgG), unit and whole month since the start of the patient's last
-- course before the sample (0 = within the first month): samples inside the window (after the
-- first-dose day, up to last follow-up) taken after a course began, the patients they come from,
-- the quartiles of the value, and for CD19 the patients classified and repopulated in that month
-- (CD19 >= 1 when the unit is % of lymphocytes, >= 10 when it is cells/µL; other units unclassified).
-- A course starts at its first dose inside the window; a sample on a dose day belongs to the course
-- before (blood is drawn before the infusion).
-- $filters: the selection (one struct, see selected_patients.sql).
-- The samples and their months come from cd19_facts (cd19_facts.sql), built once.
with placed as (
    select c.*
    from cd19_facts c
    semi join selected_patients($filters) s using (patient_id)
),
final as (
    select
        test,
        unit,
        month,
        count(*) as samples,
        count(distinct patient_id) as patients,
        quantile_cont(value, 0.25) as q1,
        median(value) as median,
        quantile_cont(value, 0.75) as q3,
        count(distinct patient_id) filter (repopulated is not null) as classified_patients,
        count(distinct patient_id) filter (repopulated) as repopulated_patients
    from placed
    group by test, unit, month
)
select * from final order by test, unit, month
