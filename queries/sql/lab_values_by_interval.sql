-- One row per subtype × 6-month interval since the first dose (months_from = 0, 6, 12, …) of one lab
-- test's values inside the selected patients' windows: patients, values, median, minimum, and values
-- below $below; and one row for all of them (subtype and months_from null).
-- The safety page reads these rows from lab_chart_rows.sql (with its sample and marked values, for
-- several tests at once); this query is the benchmark's first lab query (benchmarks/run.py).
-- $filters: the selection (one struct, see selected_patients.sql); $test: the lab test; $below: the
-- bound the "below" count uses (the low IgG threshold, g/L).
with final as (
    select
        subtype,
        months_from,
        count(distinct sample_rank) as patients,
        count(*) as "values",
        median(value) as median,
        min(value) as minimum,
        count(*) filter (value < $below) as below
    from lab_values_in_window($filters, [$test])
    group by grouping sets ((subtype, months_from), ())
)
select * from final order by subtype nulls first, months_from
