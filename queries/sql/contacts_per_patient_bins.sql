-- One row per channel × bin of contacts per patient (every selected patient, contacts inside the window
-- on that channel, zeros included): how many patients fall in the bin. About 15 bins of equal width up
-- to the 95th percentile of all those counts (width = max(1, ceil(p95 / 15))); the long tail above
-- shares the last bin, bin = 15 × width ("≥ cap"). bin: its lower bound; width: the bin width.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    -- pid: the patient's integer key (patient_facts.sql), on which the engagement facts are joined
    select * from selected_patients($filters)
),
channels as (
    select channel_no, channel from engagement_channels
),
contacts as (
    select e.pid, e.channel_no, e.contacts
    from engagement_facts_by_channel e
    semi join selected s using (pid)
),
per_patient as (
    select s.pid, c.channel, coalesce(n.contacts, 0) as contacts
    from selected s
    cross join channels c
    left join contacts n on n.pid = s.pid and n.channel_no = c.channel_no
),
width as (
    select greatest(1, cast(ceil(quantile_cont(contacts, 0.95) / 15) as bigint)) as width
    from per_patient
),
final as (
    select
        p.channel,
        cast(floor(least(p.contacts, w.width * 15) / w.width) * w.width as bigint) as bin,
        any_value(w.width) as width,
        count(*) as patients
    from per_patient p
    cross join width w
    group by all
)
select * from final order by channel, bin
