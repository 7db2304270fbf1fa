-- One row per selected patient: confirmed disability worsening (CDW) over $confirm_days days, fixed
-- baseline. evaluable: >= 1 EDSS assessment inside the window (date > first dose, <= last follow-up);
-- worsening_date, confirm_date: the earliest confirmed worsening i and its earliest confirming
-- assessment j (confirm_months: j in months since the first dose); months: to the worsening (event)
-- or to the last assessment inside the window (censored); relapse_associated: a relapse inside the
-- window with onset in [date_i - 90 days, date_j] (RAW), else PIRA (null without an event).
-- $filters: the selection (one struct, see selected_patients.sql); $confirm_days: D (84 for CDW-3m,
-- 168 for CDW-6m).
with selected as (
    select * from selected_patients($filters)
),
assessments as (
    select
        e.patient_id,
        e.assessment_date,
        e.edss - s.baseline_edss >= case
            when s.baseline_edss = 0 then 1.5
            when s.baseline_edss <= 5.5 then 1.0
            else 0.5
        end as meets
    from edss e
    join selected s using (patient_id)
    where e.assessment_date > s.first_dose_date and e.assessment_date <= s.last_followup_date
),
-- the first assessment on or after each one that does not meet: confirmation must come before it
with_next_miss as (
    select
        *,
        min(case when not meets then assessment_date end) over (
            partition by patient_id order by assessment_date
            rows between current row and unbounded following
        ) as next_miss
    from assessments
),
confirmed as (
    select i.patient_id, i.assessment_date as worsening_date, min(j.assessment_date) as confirm_date
    from with_next_miss i
    join assessments j
      on j.patient_id = i.patient_id
     and j.assessment_date - i.assessment_date >= $confirm_days
     and (i.next_miss is null or j.assessment_date < i.next_miss)
    where i.meets
    group by i.patient_id, i.assessment_date
),
first_event as (
    select patient_id, arg_min(worsening_date, worsening_date) as worsening_date,
           arg_min(confirm_date, worsening_date) as confirm_date
    from confirmed
    group by patient_id
),
last_assessment as (
    select patient_id, max(assessment_date) as last_date
    from assessments
    group by patient_id
),
relapse_near as (
    select distinct f.patient_id
    from first_event f
    join selected s using (patient_id)
    join relapses r using (patient_id)
    where r.onset_date between s.first_dose_date and s.last_followup_date
      and r.onset_date between f.worsening_date - 90 and f.confirm_date
),
final as (
    select
        s.patient_id,
        s.subtype,
        l.patient_id is not null as evaluable,
        f.patient_id is not null as event,
        months(coalesce(f.worsening_date, l.last_date) - s.first_dose_date) as months,
        f.worsening_date,
        f.confirm_date,
        months(f.confirm_date - s.first_dose_date) as confirm_months,
        case when f.patient_id is not null then n.patient_id is not null end as relapse_associated
    from selected s
    left join last_assessment l using (patient_id)
    left join first_event f using (patient_id)
    left join relapse_near n using (patient_id)
)
select * from final order by subtype, patient_id
