-- One row per calendar month × channel × kind: virtual-care contacts of the selected patients inside
-- their windows (first-dose day to last follow-up, inclusive).
-- $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min, $age_max:
-- the selection.
with selected as (
    select *
    from selected_patients(
        $followup_min, $followup_max, $doses_min, $doses_max, $subtypes, $sexes, $sites, $age_min,
        $age_max
    )
),
contacts as (
    select e.*
    from engagement e
    join selected s using (patient_id)
    where e.contact_date between s.first_dose_date and s.last_followup_date
),
final as (
    select
        cast(date_trunc('month', contact_date) as date) as month,
        channel,
        kind,
        count(*) as contacts,
        count(distinct patient_id) as patients
    from contacts
    group by all
)
select * from final order by month, channel, kind
