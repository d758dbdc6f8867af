{#
    Unknown codes are kept and counted (mart_data_quality), but above a share of the raw rows
    the numbers built on them cannot be trusted: an unknown enrolment status ('refunded') is
    not 'cancelled', so it makes a learner, and an unknown or blank event type is never a quiz
    or a video. Returns one row per code list whose unknown share is above its var
    (max_unknown_enrolment_status_share, max_unknown_event_type_share), with the share in the
    failure column; the same text is logged, so the task log names the share too. Shares are
    of all raw rows: event types are counted per load batch (int_load_batches__event_rows,
    which appends the new batches), so the check costs the day's rows, and it runs - and
    stops the build, before any mart - in the intermediate layer.
#}
{% set shares_sql %}
with

enrolments as (

    select * from {{ ref('base_raw__enrolments') }}

),

load_batches as (

    select * from {{ ref('int_load_batches__event_rows') }}

),

counts as (

    select
        'enrolment status' as code_list,
        'max_unknown_enrolment_status_share' as threshold_var,
        count(*) filter (
            where enrolment_status not in {{ codes_sql('valid_enrolment_statuses') }}
        ) as unknown_rows,
        count(*) as checked_rows,
        {{ max_share('max_unknown_enrolment_status_share') }} as max_share
    from enrolments

    union all

    select
        'event type' as code_list,
        'max_unknown_event_type_share' as threshold_var,
        coalesce(sum(unknown_event_type_rows), 0) as unknown_rows,
        coalesce(sum(raw_rows), 0) as checked_rows,
        {{ max_share('max_unknown_event_type_share') }} as max_share
    from load_batches

),

shares as (

    select
        *,
        coalesce(cast(unknown_rows as double) / nullif(checked_rows, 0), 0) as unknown_share
    from counts

),

failures as (

    select
        *,
        'unknown ' || code_list || ' share ' || {{ share_text('unknown_share') }}
        || ' (' || unknown_rows || ' of ' || checked_rows || ' raw rows) is above '
        || threshold_var || ' = ' || {{ share_text('max_share') }} as failure
    from shares
    where unknown_share > max_share

)

select * from failures
{% endset %}

{%- if execute and target.name != 'lint' -%}
    {%- for row in run_query(shares_sql).rows -%}
        {%- do log('FAIL assert_unknown_code_shares_within_limits: ' ~ row['failure'], info=true) -%}
    {%- endfor -%}
{%- endif -%}

{{ shares_sql }}
