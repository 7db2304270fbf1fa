-- One row per selected patient: the patient's outcomes (relapse-free time, EDSS change, MRI, IgG, AEs).
-- $filters: the selection (one struct, see selected_patients.sql).
select *
from selected_patients($filters)
order by subtype, patient_id
