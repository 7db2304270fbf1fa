-- One row per channel, and one for all channels (channel = null): the selected patients' virtual-care
-- contacts inside their windows and the patients with at least one.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    -- pid: the patient's integer key (patient_facts.sql), on which the engagement facts are joined
    select * from selected_patients($filters)
),
channels as (
    select distinct channel_no, channel from engagement_series
),
final as (
    select n.channel, cast(sum(e.contacts) as bigint) as contacts, count(distinct e.pid) as patients
    from engagement_facts_by_channel e
    join channels n using (channel_no)
    semi join selected s using (pid)
    group by grouping sets ((n.channel), ())
)
select * from final order by channel nulls first
