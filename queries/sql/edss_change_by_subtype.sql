-- One row per subtype of the selected patients with a follow-up EDSS, and one for all of them
-- (subtype = null): n, mean and sample SD of the EDSS change (latest − baseline), and its box-plot
-- statistics (quartiles by linear interpolation, whiskers to the furthest value within 1.5 × IQR).
-- $filters: the selection (one struct, see selected_patients.sql).
with assessed as (
    select subtype, edss_change from selected_patients($filters) where edss_change is not null
),
moments as (
    select
        subtype,
        count(*) as n,
        avg(edss_change) as mean,
        stddev_samp(edss_change) as sd,
        quantile_cont(edss_change, [0.25, 0.5, 0.75]) as q
    from assessed
    group by grouping sets ((subtype), ())
),
fences as (
    select
        m.subtype,
        min(a.edss_change) filter (a.edss_change >= m.q[1] - 1.5 * (m.q[3] - m.q[1])) as low,
        max(a.edss_change) filter (a.edss_change <= m.q[3] + 1.5 * (m.q[3] - m.q[1])) as high
    from moments m
    join assessed a on m.subtype is null or a.subtype = m.subtype
    group by m.subtype
),
final as (
    select m.subtype, m.n, m.mean, m.sd, m.q[1] as q1, m.q[2] as median, m.q[3] as q3, f.low, f.high
    from moments m
    join fences f on f.subtype is not distinct from m.subtype
)
select * from final order by subtype nulls first
