-- The rows of the lab charts of several tests, from one pass over their values inside the selected
-- patients' windows (lab_values_in_window.sql):
-- part = 'interval' (when $by_interval): one row per test × subtype × 6-month interval since the
--   first dose (months_from = 0, 6, 12, …): patients, values, median, minimum, and values below the
--   test's bound;
-- part = 'test': one row per test with a value: the patients and values;
-- part = 'value': one row per value drawn or marked: the values of a fixed sample of the patients
--   with a value of the test (in_sample: at most $max_patients per test, the first by sha256 of their
--   id, i.e. by sample_rank), and every value below the test's low bound (low; none where it is null).
-- $filters: the selection (one struct, see selected_patients.sql); $tests: the lab tests (a list);
-- $below: per test (same order), the bound the interval rows' "below" counts use (e.g. the low IgG
-- threshold, g/L); $low: per test, the bound of the marked values, or null; $max_patients: the sample
-- size per test; $by_interval: whether to compute the interval rows (only the shared view shows them:
-- their medians are most of the query's work).
with charts as (
    select
        unnest($tests) as test,
        unnest(range(len($tests))) as chart,
        unnest($below) as below_bound,
        unnest($low) as low_bound
),
lab_values as (
    -- the tests are numbered (chart) and the bounds compared here, so that what follows groups and
    -- joins on small columns
    select
        c.chart,
        v.sample_rank,
        v.subtype,
        v.sample_date,
        v.months_from,
        v.value,
        v.unit,
        v.first_of_test,
        v.first_in_interval,
        v.value < c.below_bound as is_below,
        coalesce(v.value < c.low_bound, false) as is_low
    from lab_values_in_window($filters, $tests) v
    join charts c using (test)
),
per_test as (
    -- per test: the patients with a value, the values, and the sample (the first $max_patients
    -- patients by sample_rank)
    select
        chart,
        count(*) filter (first_of_test) as patients,
        count(*) as "values",
        min(sample_rank, $max_patients) filter (first_of_test) as sample
    from lab_values
    group by chart
),
sample as (
    select chart, unnest(sample) as sample_rank from per_test
),
intervals as (
    select
        chart,
        subtype,
        months_from,
        count(*) filter (first_in_interval) as patients,
        count(*) as "values",
        median(value) as median,
        min(value) as minimum,
        count(*) filter (is_below) as below
    from lab_values
    where $by_interval
    group by chart, subtype, months_from
),
drawn as (
    select v.*, true as in_sample
    from lab_values v
    semi join sample using (chart, sample_rank)
    union all
    select v.*, false as in_sample
    from lab_values v
    anti join sample using (chart, sample_rank)
    where v.is_low
),
final as (
    select 'interval' as part, c.test, i.* exclude (chart)
    from intervals i
    join charts c using (chart)
    union all by name
    select 'test' as part, c.test, t.patients, t."values"
    from per_test t
    join charts c using (chart)
    union all by name
    select
        'value' as part,
        p.patient_id,
        d.subtype,
        c.test,
        d.sample_date,
        months(d.sample_date - p.first_dose_date) as months,
        d.value,
        d.unit,
        d.in_sample,
        d.is_low as low
    from drawn d
    join charts c using (chart)
    join patient_facts p using (sample_rank)
)
select * from final order by part, test, subtype, months_from, patient_id, sample_date
