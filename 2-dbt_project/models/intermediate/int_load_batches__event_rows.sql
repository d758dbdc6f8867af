{#
    One row per load batch of raw.events: its raw rows, and what is counted per raw row before
    any de-duplication (event type variants, unknown or missing types). A batch's rows never change, so each run appends
    the new batches (macros/load_batches.sql) and history is never read again.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('append'),
        full_refresh=rebuilt_every_run(),
        on_schema_change='fail',
        pre_hook="{{ reset_when_history_replaced() }}",
    )
}}

with

batch as (

    select * from {{ ref('base_raw__events') }}
    where {{ unprocessed_load_batches() }}

),

final as (

    select
        load_batch_id,
        count(*) as raw_rows,
        count(*) filter (where is_event_type_variant) as event_type_variant_rows,
        count(*) filter (
            where event_type is null or event_type not in {{ codes_sql('valid_event_types') }}
        ) as unknown_event_type_rows
    from batch
    group by load_batch_id

)

select * from final
