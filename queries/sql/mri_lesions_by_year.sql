-- One row per subtype × year of follow-up (interval = 0, 12, 24 … months since the first dose) of the
-- MRI scans inside the selected patients' windows (after the first-dose day, up to last follow-up):
-- scans, new T2 and Gd-enhancing lesions, new T2 lesions per scan, and the interval as text.
-- $filters: the selection (one struct, see selected_patients.sql).
-- The scans are counted and their lesions added up per patient and year once, in mri_facts
-- (mri_facts.sql); the selection joins them on sample_rank.
with scans as (
    select m.*
    from mri_facts m
    join selected_patients($filters) s using (sample_rank)
),
final as (
    select
        subtype,
        interval,
        cast(sum(scans) as bigint) as scans,
        cast(sum(new_t2_lesions) as bigint) as new_t2_lesions,
        cast(sum(gd_lesions) as bigint) as gd_lesions,
        sum(new_t2_lesions) / sum(scans) as new_t2_per_scan,
        interval || '–' || (interval + 12) as months
    from scans
    group by subtype, interval
)
select * from final order by subtype, interval
