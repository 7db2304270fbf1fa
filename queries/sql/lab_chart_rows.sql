-- The values the lab charts of several tests draw, inside the selected patients' windows: one row per
-- value of a fixed sample of the patients with a value of the test (in_sample: at most $max_patients
-- per test, the first by sha256 of their id, i.e. by sample_rank), and one per value below the test's
-- low bound (low; none where the bound is null), each with the test's totals over the selection
-- (patients with a value, values). A test without a selected value has no row.
-- $filters: the selection (one struct, see selected_patients.sql); $tests: the lab tests (a list);
-- $low: per test (same order), the bound of the marked values, or null; $max_patients: the sample
-- size per test (at least 1).
-- The totals, the sample and the patients with a value below the bound come from
-- lab_facts_by_patient (one row per patient and test, lab_facts.sql); only the values of those
-- patients are read from lab_facts.
with per_test as (
    select
        l.test,
        count(*) as patients,
        sum(l.n_values) as n_values,
        min(l.sample_rank, $max_patients) as sample,
        list(l.sample_rank) filter (l.min_value < $low[list_position($tests, l.test)]) as low_patients
    from lab_facts_by_patient l
    join selected_patients($filters) s using (sample_rank)
    where list_contains($tests, l.test)
    group by l.test
),
drawn_patients as (
    -- the sample is the first patients by sample_rank: a patient is in it when no later than its last
    select
        patients,
        n_values,
        list_max(sample) as last_sampled,
        -- the patient and test as one number, as lab_facts.patient_test
        cast(unnest(list_distinct(list_concat(sample, coalesce(low_patients, [])))) as bigint)
            * len(enum_range(test)) + enum_code(test) as patient_test
    from per_test
),
final as (
    select
        p.patient_id,
        cast(l.subtype as varchar) as subtype,
        cast(l.test as varchar) as test,
        l.sample_date,
        months(l.sample_date - p.first_dose_date) as months,
        l.value,
        cast(l.unit as varchar) as unit,
        l.sample_rank <= d.last_sampled as in_sample,
        coalesce(l.value < $low[list_position($tests, l.test)], false) as low,
        d.patients,
        d.n_values as "values"
    from lab_facts l
    join drawn_patients d using (patient_test)
    join patient_facts p using (sample_rank)
    where list_contains($tests, l.test)
)
select * from final where in_sample or low order by test, subtype, patient_id, sample_date
