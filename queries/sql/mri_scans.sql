-- One row per MRI scan inside a selected patient's window (after the first-dose day, up to last
-- follow-up): lesion counts and the months since first dose.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
final as (
    select
        m.patient_id,
        s.subtype,
        m.scan_date,
        months(m.scan_date - s.first_dose_date) as months,
        m.new_t2_lesions,
        m.gd_enhancing_lesions
    from mri m
    join selected s using (patient_id)
    where m.scan_date > s.first_dose_date and m.scan_date <= s.last_followup_date
)
select * from final order by subtype, patient_id, scan_date
