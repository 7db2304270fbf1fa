-- Built on the first query that reads it (queries/dataset.py ON_FIRST_USE). One row per patient × calendar
-- month × channel × kind: the patient's virtual-care contacts inside the window (first-dose day to last
-- follow-up). The engagement queries read this instead of every contact, so a filter change stays fast at
-- registry scale. Rows carry the patient's integer key, pid (patient_facts.sql), not the id: the queries
-- join these millions of rows with the selection on it.
-- No parameters.
create or replace table engagement_facts as
select
    p.pid,
    cast(date_trunc('month', e.contact_date) as date) as month,
    e.channel,
    e.kind,
    count(*) as contacts
from engagement e
join patient_facts p using (patient_id)
where e.contact_date between p.first_dose_date and p.last_followup_date
group by all
;
-- And one row per patient × channel with at least one contact: the contacts inside the window. The
-- per-patient queries (totals, bins, tertiles) read this, a few rows per patient, instead of summing
-- engagement_facts on every filter change. (Named engagement_facts_… so that the first query naming it
-- builds both tables: queries/dataset.py ON_FIRST_USE.)
create or replace table engagement_facts_by_channel as
select pid, channel, sum(contacts) as contacts
from engagement_facts
group by all
