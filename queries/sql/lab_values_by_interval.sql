-- One row per lab test × subtype × 6-month interval since the first dose (months_from = 0, 6, 12, …)
-- of the values inside the selected patients' windows (lab_values_in_window.sql): patients, values,
-- median, minimum, and values below the test's bound.
-- $filters: the selection (one struct, see selected_patients.sql); $tests: the lab tests (a list);
-- $below: per test (same order), the bound the "below" counts use (e.g. the low IgG threshold, g/L).
with charts as (
    select unnest($tests) as test, unnest($below) as below_bound
),
final as (
    select
        cast(v.test as varchar) as test,
        cast(v.subtype as varchar) as subtype,
        v.months_from,
        cast(coalesce(count_if(v.first_in_interval), 0) as bigint) as patients,
        count(*) as "values",
        median(v.value) as median,
        min(v.value) as minimum,
        -- count_if is null, not 0, where every condition is null (no bound)
        cast(coalesce(count_if(v.value < c.below_bound), 0) as bigint) as below
    from lab_values_in_window($filters, $tests) v
    join charts c using (test)
    group by all
)
select * from final order by test, subtype, months_from
