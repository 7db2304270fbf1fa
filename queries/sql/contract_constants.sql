-- Built once when a dataset is opened: one row holding the data contract's calendar constants, bound
-- from queries/contract.py (DAYS_PER_MONTH, DAYS_PER_YEAR) so that they are defined in one place.
-- $days_per_month, $days_per_year.
create or replace table contract_constants as
select cast($days_per_month as double) as days_per_month, cast($days_per_year as double) as days_per_year
