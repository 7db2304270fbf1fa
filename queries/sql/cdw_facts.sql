-- Built on the first query that reads one of its tables (queries/dataset.py ON_FIRST_USE: the EDSS page, confirmed
-- disability worsening), in the compressed facts database, after edss_values.sql; all patients, no
-- filter: a patient's CDW does not depend on the selection, so a filter change only selects rows.
-- cdw_facts: one row per evaluable patient (>= 1 EDSS assessment inside the window: date > first
-- dose, <= last follow-up) and CDW definition, keyed by the patient's integer sample_rank
-- (patient_facts) and sorted by it. confirm_days: D, the contract's 84 (CDW-3m) and 168 (CDW-6m)
-- (analysis.disability.CONFIRM_DAYS picks them); event: a worsening i confirmed by an assessment j
-- at least D days later with none in between, i and j included, below the threshold; months: to
-- the earliest such i (event) or to the last assessment inside the window (censored);
-- confirm_months: to i's earliest confirming j; relapse_associated: a relapse inside the window
-- with onset in [date_i - 90 days, date_j] (RAW), else PIRA (null without an event).
-- Reads edss_values and relapse_values (edss_values.sql: months since the first dose, which are
-- whole days / days_per_month, so the days come back exactly by rounding).
-- No parameters.
--
-- cdw_facts:
create or replace table cdw_facts as
with constants as (
    select days_per_month from contract_constants
),
definitions as (
    select unnest([84, 168]) as confirm_days
),
assessments as (
    select
        p.sample_rank,
        cast(round(v.months * c.days_per_month) as integer) as day,
        v.edss - p.baseline_edss >= case
            when p.baseline_edss = 0 then 1.5
            when p.baseline_edss <= 5.5 then 1.0
            else 0.5
        end as meets
    from edss_values v
    join patient_facts p using (sample_rank)
    cross join constants c
    where v.visit > 0
),
-- a day meets when every assessment on it meets (confirmation needs every assessment from date_i
-- to date_j to meet, those on date_i and date_j included)
days as (
    select sample_rank, day, bool_and(meets) as meets
    from assessments
    group by all
),
-- runs: each day that meets, numbered by the patient's days that do not meet before it
runs as (
    select a.sample_rank, a.day, count(m.day) as run
    from days a
    left join days m on m.sample_rank = a.sample_rank and not m.meets and m.day < a.day
    where a.meets
    group by all
),
-- a worsening is confirmed by a later day of its run at least D days on; in each run the first
-- day has the most room, so a patient's first confirmed worsening is the first day of the first
-- run spanning at least D days
spans as (
    select sample_rank, run, min(day) as worsening_day, max(day) as last_day
    from runs
    group by all
),
first_event as (
    select s.sample_rank, d.confirm_days, arg_min(s.run, s.worsening_day) as run,
           min(s.worsening_day) as worsening_day
    from spans s
    join definitions d on s.last_day - s.worsening_day >= d.confirm_days
    group by all
),
confirmation as (
    select f.sample_rank, f.confirm_days, f.worsening_day, min(r.day) as confirm_day
    from first_event f
    join runs r
      on r.sample_rank = f.sample_rank and r.run = f.run
     and r.day >= f.worsening_day + f.confirm_days
    group by all
),
last_assessment as (
    select sample_rank, max(day) as last_day
    from days
    group by all
),
relapse_near as (
    select distinct f.sample_rank, f.confirm_days
    from confirmation f
    join relapse_values r using (sample_rank)
    cross join constants c
    where cast(round(r.months * c.days_per_month) as integer)
          between f.worsening_day - 90 and f.confirm_day
)
select
    l.sample_rank,
    cast(d.confirm_days as integer) as confirm_days,
    f.sample_rank is not null as event,
    months(coalesce(f.worsening_day, l.last_day)) as months,
    months(f.confirm_day) as confirm_months,
    case when f.sample_rank is not null then n.sample_rank is not null end as relapse_associated
from last_assessment l
cross join definitions d
left join confirmation f on f.sample_rank = l.sample_rank and f.confirm_days = d.confirm_days
left join relapse_near n on n.sample_rank = l.sample_rank and n.confirm_days = d.confirm_days
order by l.sample_rank, d.confirm_days
;
-- cdw_event_facts: one row per patient with a CDW-3m event, both definitions side by side (the
-- CDW-6m columns null without a CDW-6m event: a CDW-6m event is always a CDW-3m event, not always
-- at the same worsening), for the list of patients with a worsening; sorted by sample_rank.
create or replace table cdw_event_facts as
select
    t.sample_rank,
    t.months as months_3m,
    t.confirm_months as confirm_months_3m,
    t.relapse_associated as relapse_associated_3m,
    x.months as months_6m,
    x.confirm_months as confirm_months_6m,
    x.relapse_associated as relapse_associated_6m
from cdw_facts t
left join cdw_facts x on x.sample_rank = t.sample_rank and x.confirm_days = 168 and x.event
where t.confirm_days = 84 and t.event
order by t.sample_rank
