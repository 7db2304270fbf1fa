-- One row per lab test (CD19, IgG), unit and whole month since the start of the patient's last
-- course before the sample (0 = within the first month): samples inside the window (after the
-- first-dose day, up to last follow-up) taken after a course began, the patients they come from,
-- the quartiles of the value, and for CD19 the patients classified and repopulated in that month
-- (CD19 >= 1 when the unit is % of lymphocytes, >= 10 when it is cells/µL; other units unclassified).
-- A course starts at its first dose inside the window; a sample on a dose day belongs to the course
-- before (blood is drawn before the infusion).
-- $filters: the selection (one struct, see selected_patients.sql).
with selected as (
    select * from selected_patients($filters)
),
course_starts as (
    select i.patient_id, i.course, min(i.dose_date) as start_date
    from infusions i
    join selected s using (patient_id)
    where i.dose_date between s.first_dose_date and s.last_followup_date
    group by i.patient_id, i.course
),
samples as (
    select
        l.patient_id,
        l.test,
        l.sample_date,
        l.value,
        case
            when l.test <> 'CD19' then l.unit
            when replace(lower(trim(l.unit)), ' ', '') in ('%', 'percent', '%lymphocytes',
                                                          '%oflymphocytes') then '%'
            when replace(replace(replace(lower(trim(l.unit)), 'µ', 'u'), 'μ', 'u'), ' ', '') in (
                'cells/ul', '/ul', 'cells/mm3', '/mm3', '10^6/l', 'x10^6/l', '10e6/l'
            ) then 'cells/µL'
            else l.unit
        end as unit
    from labs l
    join selected s using (patient_id)
    where l.test in ('CD19', 'IgG')
      and l.sample_date > s.first_dose_date
      and l.sample_date <= s.last_followup_date
),
placed as (
    select
        s.*,
        cast(floor(months(s.sample_date - c.start_date)) as integer) as month,
        case
            when s.test = 'CD19' and s.unit = '%' then s.value >= 1
            when s.test = 'CD19' and s.unit = 'cells/µL' then s.value >= 10
        end as repopulated
    from samples s
    asof join course_starts c on s.patient_id = c.patient_id and s.sample_date > c.start_date
),
final as (
    select
        test,
        unit,
        month,
        count(*) as samples,
        count(distinct patient_id) as patients,
        quantile_cont(value, 0.25) as q1,
        median(value) as median,
        quantile_cont(value, 0.75) as q3,
        count(distinct patient_id) filter (repopulated is not null) as classified_patients,
        count(distinct patient_id) filter (repopulated) as repopulated_patients
    from placed
    group by test, unit, month
)
select * from final order by test, unit, month
