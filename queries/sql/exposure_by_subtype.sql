-- One row per subtype of the selected patients, and one for all of them (subtype = null): follow-up
-- (months) and doses inside the window as box-plot statistics (quartiles by linear interpolation,
-- whiskers to the furthest value within 1.5 × IQR of the box), the range and the dose total.
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
quartiles as (
    select
        subtype,
        count(*) as patients,
        quantile_cont(followup_months, [0.25, 0.5, 0.75]) as fq,
        quantile_cont(doses, [0.25, 0.5, 0.75]) as dq,
        min(followup_months) as followup_min,
        max(followup_months) as followup_max,
        cast(sum(doses) as bigint) as doses_total
    from selected
    group by grouping sets ((subtype), ())
),
fences as (
    select
        q.subtype,
        min(s.followup_months) filter (s.followup_months >= q.fq[1] - 1.5 * (q.fq[3] - q.fq[1]))
            as followup_low,
        max(s.followup_months) filter (s.followup_months <= q.fq[3] + 1.5 * (q.fq[3] - q.fq[1]))
            as followup_high,
        min(s.doses) filter (s.doses >= q.dq[1] - 1.5 * (q.dq[3] - q.dq[1])) as doses_low,
        max(s.doses) filter (s.doses <= q.dq[3] + 1.5 * (q.dq[3] - q.dq[1])) as doses_high
    from quartiles q
    join selected s on q.subtype is null or s.subtype = q.subtype
    group by q.subtype
),
final as (
    select
        q.subtype,
        q.patients,
        q.fq[2] as followup_median,
        q.fq[1] as followup_q1,
        q.fq[3] as followup_q3,
        f.followup_low,
        f.followup_high,
        q.followup_min,
        q.followup_max,
        q.dq[2] as doses_median,
        q.dq[1] as doses_q1,
        q.dq[3] as doses_q3,
        f.doses_low,
        f.doses_high,
        q.doses_total
    from quartiles q
    join fences f on f.subtype is not distinct from q.subtype
)
select * from final order by subtype nulls first
