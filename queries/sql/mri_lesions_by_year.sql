-- One row per subtype × year of follow-up (interval = 0, 12, 24 … months since the first dose) of the
-- MRI scans inside the selected patients' windows (after the first-dose day, up to last follow-up):
-- scans, new T2 and Gd-enhancing lesions, new T2 lesions per scan, and the interval as text.
-- $filters: the selection (one struct, see selected_patients.sql).
with scans as (
    select
        s.subtype,
        cast(floor(months(m.scan_date - s.first_dose_date) / 12) * 12 as integer) as interval,
        m.new_t2_lesions,
        m.gd_enhancing_lesions
    from mri m
    join selected_patients($filters) s using (patient_id)
    where m.scan_date > s.first_dose_date and m.scan_date <= s.last_followup_date
),
final as (
    select
        subtype,
        interval,
        count(*) as scans,
        cast(sum(new_t2_lesions) as bigint) as new_t2_lesions,
        cast(sum(gd_enhancing_lesions) as bigint) as gd_lesions,
        sum(new_t2_lesions) / count(*) as new_t2_per_scan,
        interval || '–' || (interval + 12) as months
    from scans
    group by subtype, interval
)
select * from final order by subtype, interval
