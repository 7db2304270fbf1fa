-- One row per channel, and one for all channels (channel = null): the selected patients' virtual-care
-- contacts inside their windows and the patients with at least one.
-- $filters: the selection (one struct, see selected_patients.sql).
with contacts as (
    -- engagement_facts_by_channel has one row per patient and channel with a contact: the selected
    -- patients' rows (pid: the patient's integer key, patient_facts.sql)
    select e.pid, e.channel_no, e.contacts
    from engagement_facts_by_channel e
    semi join selected_patients($filters) s using (pid)
),
channels as (
    select distinct channel_no, channel from engagement_series
),
per_channel as (
    -- one row per patient here, so count(*) counts the patients
    select n.channel, cast(sum(c.contacts) as bigint) as contacts, count(*) as patients
    from contacts c
    join channels n using (channel_no)
    group by n.channel
),
overall as (
    select
        cast(null as varchar) as channel,
        cast(sum(contacts) as bigint) as contacts,
        count(distinct pid) as patients
    from contacts
),
final as (
    select * from overall
    union all
    select * from per_channel
)
select * from final order by channel nulls first
