-- Built on the first query that names one of its tables (queries/dataset.py ON_FIRST_USE), in the
-- compressed facts database. The engagement queries read these instead of every contact, so a filter
-- change stays fast at registry scale. Rows carry integers, not text: the patient's key, pid
-- (patient_facts.sql), on which the queries join these millions of rows with the selection, and the
-- channel × kind as a number (grouping on it takes half the time of grouping on the two texts at
-- 100,000 patients).
-- No parameters.
--
-- engagement_series: one row per channel × kind found in the engagement table, numbered (series), with
-- the channel's own number (channel_no).
create or replace table engagement_series as
select
    cast(row_number() over (order by channel, kind) as integer) as series,
    cast(dense_rank() over (order by channel) as integer) as channel_no,
    channel,
    kind
from (select distinct channel, kind from engagement)
;
-- engagement_facts: one row per patient × calendar month × series: the patient's contacts inside the
-- window (first-dose day to last follow-up, inclusive).
create or replace table engagement_facts as
select
    p.pid,
    cast(date_trunc('month', e.contact_date) as date) as month,
    s.series,
    cast(count(*) as integer) as contacts
from engagement e
join patient_facts p using (patient_id)
join engagement_series s
    on s.channel is not distinct from e.channel and s.kind is not distinct from e.kind
where e.contact_date between p.first_dose_date and p.last_followup_date
group by all
;
-- engagement_facts_by_channel: one row per patient × channel with at least one contact inside the
-- window. The per-patient queries (totals, bins, tertiles) read this, a few rows per patient, instead of
-- summing engagement_facts on every filter change.
create or replace table engagement_facts_by_channel as
select e.pid, s.channel_no, cast(sum(e.contacts) as integer) as contacts
from engagement_facts e
join engagement_series s using (series)
group by all
;
-- engagement_channels: the channels with a contact inside some patient's window, with their names
-- (the per-patient bins list every selected patient on each of these, zeros included)
create or replace table engagement_channels as
select distinct e.channel_no, n.channel
from engagement_facts_by_channel e
join (select distinct channel_no, channel from engagement_series) n using (channel_no)
