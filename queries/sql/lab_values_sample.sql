-- One row per laboratory value of one test inside the window (lab_values_in_window.sql) of a fixed
-- sample of the selected patients who have such a value: at most $max_patients, the first by sha256 of
-- their id. sampled = true when more patients have a value than are returned.
-- $filters: the selection (one struct, see selected_patients.sql); $test: the lab test;
-- $max_patients: the sample size.
with lab_values as (
    select * from lab_values_in_window($filters, $test)
),
tested as (
    select patient_id, count(*) over () > $max_patients as sampled
    from (select distinct patient_id from lab_values)
    qualify row_number() over (order by sha256(patient_id)) <= $max_patients
),
final as (
    select v.*, t.sampled
    from lab_values v
    join tested t using (patient_id)
)
select * from final order by subtype, patient_id, sample_date
