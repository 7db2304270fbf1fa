-- One row per engagement tertile (Low, Middle, High) of the selected patients by contacts per month of
-- follow-up, and one for the patients without follow-up time (no rate): patients, the range of rates,
-- relapse-free patients, n, mean and SD of the EDSS change, patients with an adverse event.
-- Patients are ranked by rate (ties broken by patient id); rank r is Low while r <= $low_edge, Middle
-- while r <= $high_edge, else High (the edges: analysis.engagement.tertile_edges).
-- $filters: the selection (one struct, see selected_patients.sql); $low_edge, $high_edge: rank bounds.
with selected as (
    -- pid: the patient's integer key (patient_facts.sql), on which the engagement facts are joined
    select * from selected_patients($filters)
),
contacts as (
    select e.pid, sum(e.contacts) as contacts
    from engagement_facts_by_channel e
    semi join selected s using (pid)
    group by e.pid
),
rates as (
    select
        s.pid, s.relapses, s.edss_change, s.adverse_events,
        case when s.followup_months > 0 then coalesce(c.contacts, 0) / s.followup_months end as rate
    from selected s
    left join contacts c using (pid)
),
ranked as (
    select
        *,
        -- ties broken by patient id: pid numbers the patients in patient_id order
        row_number() over (order by rate asc nulls last, pid) as r
    from rates
),
tertiles as (
    select
        *,
        case
            when rate is null then 'Not classified (no follow-up time)'
            when r <= $low_edge then 'Low'
            when r <= $high_edge then 'Middle'
            else 'High'
        end as tertile
    from ranked
),
final as (
    select
        tertile,
        count(*) as patients,
        min(rate) as contacts_per_month_min,
        max(rate) as contacts_per_month_max,
        count(*) filter (relapses = 0) as relapse_free,
        count(edss_change) as edss_n,
        avg(edss_change) as edss_change_mean,
        stddev_samp(edss_change) as edss_change_sd,
        count(*) filter (adverse_events > 0) as patients_with_ae
    from tertiles
    group by tertile
)
select * from final
order by case tertile when 'Low' then 1 when 'Middle' then 2 when 'High' then 3 else 4 end
