-- One row per channel, and one for all channels (channel = null): the selected patients' virtual-care
-- contacts inside their windows and the patients with at least one.
-- $filters: the selection (one struct, see selected_patients.sql).
with final as (
    select e.channel, cast(sum(e.contacts) as bigint) as contacts, count(distinct e.patient_id) as patients
    from engagement_facts_by_channel e
    semi join selected_patients($filters) s using (patient_id)
    group by grouping sets ((e.channel), ())
)
select * from final order by channel nulls first
