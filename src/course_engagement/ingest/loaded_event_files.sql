-- Every events file in raw.events now, in batch order, with its latest audit row.
select
    batches.file_name,
    batches.sha256,
    any_value(batches.loaded_rows) as loaded_rows,
    max(audits.loaded_at) as loaded_at,
    arg_max(audits.source_path, audits.loaded_at) as source_path
from raw.load_batches as batches
inner join raw.load_audit as audits
    on
        batches.load_batch_id = audits.load_batch_id
        and batches.file_name = audits.file_name
        and batches.sha256 = audits.sha256
group by batches.load_batch_id, batches.file_name, batches.sha256
order by batches.load_batch_id
