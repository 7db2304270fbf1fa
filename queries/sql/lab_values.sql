-- One row per laboratory value of one test inside a selected patient's window (after the first-dose
-- day, up to last follow-up): the value and the months since first dose.
-- $filters: the selection (one struct, see selected_patients.sql); $test: the lab test (e.g. 'IgG', 'platelets').
with selected as (
    select * from selected_patients($filters)
),
final as (
    select
        l.patient_id,
        s.subtype,
        l.test,
        l.sample_date,
        months(l.sample_date - s.first_dose_date) as months,
        l.value,
        l.unit
    from labs l
    join selected s using (patient_id)
    where l.test = $test
      and l.sample_date > s.first_dose_date
      and l.sample_date <= s.last_followup_date
)
select * from final order by subtype, patient_id, sample_date
