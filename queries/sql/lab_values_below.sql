-- One row per laboratory value of one test below $below inside a selected patient's window
-- (lab_values_in_window.sql): the values a chart marks as low.
-- $filters: the selection (one struct, see selected_patients.sql); $test: the lab test; $below: the bound.
with final as (
    select * from lab_values_in_window($filters, $test) where value < $below
)
select * from final order by subtype, patient_id, sample_date
