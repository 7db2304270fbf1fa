-- The rows of the lab charts of several tests, from one pass over their values inside the selected
-- patients' windows (lab_values_in_window.sql):
-- part = 'interval': one row per test × subtype × 6-month interval since the first dose (months_from
--   = 0, 6, 12, …): patients, values, median, minimum, and values below the test's bound;
-- part = 'test': one row per test with a value: the patients with a value;
-- part = 'value': one row per value drawn or marked: the values of a fixed sample of the patients
--   with a value of the test (in_sample: at most $max_patients per test, the first by sha256 of their
--   id, i.e. by sample_rank), and every value below the test's low bound (low; none where it is null).
-- $filters: the selection (one struct, see selected_patients.sql); $tests: the lab tests (a list);
-- $below: per test (same order), the bound the interval rows' "below" counts use (e.g. the low IgG
-- threshold, g/L); $low: per test, the bound of the marked values, or null; $max_patients: the sample
-- size per test.
with charts as (
    select
        unnest($tests) as test,
        unnest(range(len($tests))) as chart,
        unnest($below) as below_bound,
        unnest($low) as low_bound
),
lab_values as (
    select v.*, c.chart, c.below_bound, c.low_bound
    from lab_values_in_window($filters, $tests) v
    join charts c using (test)
),
per_test as (
    -- per test: the patients with a value, and the sample (the first $max_patients by sample_rank)
    select chart, count(*) as patients, min(sample_rank, $max_patients) as sample
    from lab_values
    where first_of_test
    group by chart
),
sample as (
    select chart, unnest(sample) as sample_rank from per_test
),
intervals as (
    select
        test,
        subtype,
        months_from,
        count(*) filter (first_in_interval) as patients,
        count(*) as "values",
        median(value) as median,
        min(value) as minimum,
        count(*) filter (value < below_bound) as below
    from lab_values
    group by test, subtype, months_from
),
drawn as (
    select v.*, true as in_sample, coalesce(v.value < v.low_bound, false) as low
    from lab_values v
    semi join sample using (chart, sample_rank)
    union all
    select v.*, false as in_sample, true as low
    from lab_values v
    anti join sample using (chart, sample_rank)
    where v.value < v.low_bound
),
final as (
    select 'interval' as part, * from intervals
    union all by name
    select 'test' as part, c.test, t.patients from per_test t join charts c using (chart)
    union all by name
    select
        'value' as part,
        p.patient_id,
        d.subtype,
        d.test,
        d.sample_date,
        months(d.sample_date - p.first_dose_date) as months,
        d.value,
        d.unit,
        d.in_sample,
        d.low
    from drawn d
    join patient_facts p using (sample_rank)
)
select * from final order by part, test, subtype, months_from, patient_id, sample_date
