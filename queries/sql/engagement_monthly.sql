-- One row per calendar month × channel × kind: virtual-care contacts of the selected patients inside
-- their windows (first-dose day to last follow-up, inclusive).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    -- pid: the patient's integer key (patient_facts.sql), on which the engagement facts are joined
    select * from selected_patients($filters)
),
per_series as (
    -- engagement_facts has one row per patient, month and series: count(*) counts patients
    select e.month, e.series, sum(e.contacts) as contacts, count(*) as patients
    from engagement_facts e
    join selected s using (pid)
    group by all
),
final as (
    select p.month, n.channel, n.kind, p.contacts, p.patients
    from per_series p
    join engagement_series n using (series)
)
select * from final order by month, channel, kind
