-- One row per selected patient × channel (every channel of the dataset, zeros included): the patient's
-- virtual-care contacts on that channel inside the window.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
channels as (
    select distinct channel from engagement_facts
),
contacts as (
    select e.patient_id, e.channel, sum(e.contacts) as contacts
    from engagement_facts e
    join selected s using (patient_id)
    group by all
),
final as (
    select s.patient_id, s.subtype, c.channel, cast(coalesce(n.contacts, 0) as bigint) as contacts
    from selected s
    cross join channels c
    left join contacts n on n.patient_id = s.patient_id and n.channel = c.channel
)
select * from final order by subtype, patient_id, channel
