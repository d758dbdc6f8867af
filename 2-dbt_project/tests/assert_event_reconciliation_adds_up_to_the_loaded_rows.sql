-- Every raw event row is in exactly one reason of the reconciliation: the reasons add up to the
-- rows the loader put in raw.events (raw.load_batches, written in the load's transaction) and to
-- the rows the batch summary counted. Cheap (three small tables), so it runs every day; the
-- full recount is assert_event_reconciliation_accounts_for_every_raw_row.
with

reconciliation as (

    select * from {{ ref('mart_event_reconciliation') }}

),

load_batches as (

    select * from {{ source('raw', 'load_batches') }}

),

batch_rows as (

    select * from {{ ref('int_load_batches__event_rows') }}

),

totals as (

    select
        (select sum(event_rows) from reconciliation) as reconciled_rows,
        (select coalesce(sum(loaded_rows), 0) from load_batches) as loaded_rows,
        (select coalesce(sum(raw_rows), 0) from batch_rows) as summarised_rows

)

select * from totals
where
    reconciled_rows <> loaded_rows
    or reconciled_rows <> summarised_rows
