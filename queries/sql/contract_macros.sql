-- Built once when a dataset is opened, after contract_constants: months(days) and years(days), the
-- contract's conversions of a number of days, used by every query that shows months or years.
-- No parameters.
create or replace macro months(days) as days / (select days_per_month from contract_constants);
create or replace macro years(days) as days / (select days_per_year from contract_constants);
