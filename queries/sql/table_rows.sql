-- One row per contract table: its name and how many rows the dataset holds (an absent optional
-- table is an empty view: 0 rows). No parameters.
select 'patients' as "table", count(*) as "rows" from patients
union all select 'infusions', count(*) from infusions
union all select 'relapses', count(*) from relapses
union all select 'edss', count(*) from edss
union all select 'mri', count(*) from mri
union all select 'labs', count(*) from labs
union all select 'adverse_events', count(*) from adverse_events
union all select 'engagement', count(*) from engagement
