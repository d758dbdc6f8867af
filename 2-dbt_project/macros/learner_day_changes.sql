{#
    How fct_learner_course_days and the time-series marts stay incremental.

    The learner-day fact rewrites only the pairs whose learner days can differ from what it
    holds (changed_learner_pairs), and marks each row it writes with the run that wrote it
    (changed_at: dbt's run_started_at). A learner-day that stops counting stays as a marker
    (is_removed), so a reader sees every key that changed. A mart keeps, in the bookkeeping
    table incremental_watermarks (outside its contract and its CSV), the newest changed_at it
    has read and the as_of_date it was built at; a run recomputes what the learner-days changed
    since then reach. A mart that missed runs reads all their changes at once. A mart rebuilds
    in full when it has no watermark, when as_of_date moved backwards, when the fact was
    rebuilt (no row older than the watermark), or when its own check says so. Inputs without
    changed_at are compared at a small grain with what the mart saw last run
    (incremental_key_fingerprints: one fingerprint per key, e.g. per cohort its members).

    On an engine where every build rebuilds the marts in full (rebuilt_every_run: Spark, for
    now; macros/cross_engine/incremental_config.sql) no run reads a watermark or a fingerprint,
    so the post-hooks write none: they are DuckDB DML (insert or replace, update).
#}

{% macro learner_days_run_at() -%}
    {#- SQL literal: this run's mark on the rows it writes (dbt's run_started_at, UTC). -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro changed_learner_pairs(watermark, daily_activity, events, activity) -%}
    {#-
        SQL: the user x course pairs whose learner days may differ from the stored ones: a day
        the load batches after `watermark` added or changed, a day a replaced payload left, and
        a pair whose counted events as of as_of_date are not those stored (a learner gained or
        lost by a users or enrolments reload, as_of_date moved, a run that failed half way).
    -#}
    select
        user_id,
        course_id
    from {{ daily_activity }}
    where load_batch_id > {{ watermark }}

    union

    select
        replaced_user_id as user_id,
        replaced_course_id as course_id
    from {{ events }}
    where
        load_batch_id > {{ watermark }}
        and payload_change = 'new_payload'
        and replaced_user_id is not null
        and replaced_course_id is not null

    union

    select
        coalesce(current_pairs.user_id, stored_pairs.user_id) as user_id,
        coalesce(current_pairs.course_id, stored_pairs.course_id) as course_id
    from (
        select
            user_id,
            course_id,
            counted_event_count
        from {{ activity }}
        where is_learner and counted_event_count > 0
    ) as current_pairs
    full outer join (
        select
            user_id,
            course_id,
            sum(event_count) as counted_event_count
        from {{ this }}
        where not is_removed
        group by user_id, course_id
    ) as stored_pairs
        on
            current_pairs.user_id = stored_pairs.user_id
            and current_pairs.course_id = stored_pairs.course_id
    where current_pairs.counted_event_count is distinct from stored_pairs.counted_event_count
{%- endmacro %}


{% macro watermarks_table() -%}
    {{ this.database }}.{{ this.schema }}.incremental_watermarks
{%- endmacro %}

{% macro learner_days_seen(learner_days, full_rebuild_when=none) -%}
    {#-
        The newest changed_at of `learner_days` this mart has read, as a SQL literal, or none
        when it must rebuild in full (see the header). `full_rebuild_when`: the mart's own SQL
        condition for a full rebuild.
    -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{- return(none) -}}  {#- this: none in a unit test -#}
    {%- endif -%}
    {%- set table = adapter.get_relation(this.database, this.schema, 'incremental_watermarks') -%}
    {%- if table is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sql -%}
        select
            strftime(seen.learner_days_changed_at, '%Y-%m-%d %H:%M:%S.%f'),
            seen.as_of_date > {{ as_of_date() }}
            or not exists (
                select 1 from {{ learner_days }}
                where changed_at <= seen.learner_days_changed_at
            )
            {%- if full_rebuild_when %}
            or ({{ full_rebuild_when }})
            {%- endif %}
        from {{ watermarks_table() }} as seen
        where seen.model_name = '{{ this.identifier }}'
    {%- endset -%}
    {%- set rows = run_query(sql).rows -%}
    {%- if rows | length == 0 or rows[0][0] is none or rows[0][1] -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ rows[0][0] ~ "' as timestamp)") }}
{%- endmacro %}

{% macro rebuild_unless_seen(learner_days, full_rebuild_when=none) -%}
    {#-
        Pre-hook, in the model's transaction: empty the mart when learner_days_seen says it
        must rebuild in full (its SQL then computes every key), and say which path the run took.
    -#}
    {%- if execute and is_incremental() -%}
        {%- set seen = learner_days_seen(learner_days, full_rebuild_when) -%}
        {%- if seen is none -%}
            {% do log(this ~ ": no usable watermark, as_of_date moved back, its input was rebuilt or changed in a way it cannot localise - rebuilding it in full", info=true) %}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro remember_learner_days_seen(learner_days, rows_written='null') -%}
    {#-
        Post-hook, in the model's transaction: the watermark of this mart (see the header);
        `rows_written`: SQL for the rows the run wrote, where the mart records it.
    -#}
    {%- if rebuilt_every_run() -%}
        {{ return('') }}
    {%- endif -%}
    create table if not exists {{ watermarks_table() }} (
        model_name varchar primary key,
        learner_days_changed_at timestamp,
        as_of_date date,
        rows_written bigint
    );
    insert or replace into {{ watermarks_table() }}
    select
        '{{ this.identifier }}',
        (select max(changed_at) from {{ learner_days }}),
        {{ as_of_date() }},
        {{ rows_written }}
{%- endmacro %}

{% macro learner_dates_changed_since(learner_days, seen) -%}
    {#- SQL: the dates (activity_date) of the learner-days written after `seen`, removed or not. -#}
    select distinct activity_date
    from {{ learner_days }}
    where changed_at > {{ seen }}
{%- endmacro %}

{% macro dates_reached(dates_sql, days_before=0, days_after=0) -%}
    {#-
        SQL: every date from `days_before` days before to `days_after` days after a date that
        `dates_sql` (a query of one date column) returns.
    -#}
    select distinct
        {{ date_series(
            'reached.from_date - ' ~ days_before, 'reached.from_date + ' ~ days_after
        ) }} as reached_date
    from ({{ dates_sql }}) as reached (from_date)
    where reached.from_date is not null
{%- endmacro %}

{% macro dates_after(last_date_sql, until_sql=none) -%}
    {#-
        SQL: the dates after `last_date_sql` (a scalar query) up to `until_sql` (a scalar
        query; as_of_date when none): the new keys.
    -#}
    select
        {{ date_series(
            '(' ~ last_date_sql ~ ') + 1', '(' ~ (until_sql or as_of_date()) ~ ')'
        ) }} as new_date
{%- endmacro %}

{% macro key_fingerprints_table() -%}
    {{ this.database }}.{{ this.schema }}.incremental_key_fingerprints
{%- endmacro %}

{% macro key_fingerprints(members_sql) -%}
    {#-
        SQL: one fingerprint per key of `members_sql` (a query of key, member_id): its member
        count and the bit_xor of its members' hashes (equal sets, equal fingerprints; another
        set collides with probability 2^-64).
    -#}
    select
        cast(key as string) as key,
        {{ row_hash(['count(*)', 'bit_xor(' ~ row_hash(['member_id']) ~ ')']) }} as fingerprint
    from ({{ members_sql }}) as members (key, member_id)
    where key is not null
    group by key
{%- endmacro %}

{% macro changed_key_fingerprints(members_sql) -%}
    {#-
        SQL: the keys (varchar) whose members differ from those this mart saw at its last run:
        new, changed or gone (is_gone). Every key when it has stored none.
    -#}
    {%- set table = adapter.get_relation(this.database, this.schema, 'incremental_key_fingerprints')
        if execute and this is not none else none -%}
    select
        coalesce(current_keys.key, seen.key) as key,
        current_keys.key is null as is_gone
    from ({{ key_fingerprints(members_sql) }}) as current_keys
    full outer join (
        {%- if table is none %}
        select
            cast(null as string) as key,
            cast(null as {{ hash_type() }}) as fingerprint
        where false
        {%- else %}
        select
            key,
            fingerprint
        from {{ key_fingerprints_table() }}
        where model_name = '{{ this.identifier }}'
        {%- endif %}
    ) as seen
        on current_keys.key = seen.key
    where current_keys.fingerprint is distinct from seen.fingerprint
{%- endmacro %}

{% macro remember_key_fingerprints(members_sql) -%}
    {#- Post-hook, in the model's transaction: the fingerprints this mart saw (see the header). -#}
    {%- if rebuilt_every_run() -%}
        {{ return('') }}
    {%- endif -%}
    create table if not exists {{ key_fingerprints_table() }} (
        model_name varchar,
        key varchar,
        fingerprint {{ hash_type() }}
    );
    delete from {{ key_fingerprints_table() }}
    where model_name = '{{ this.identifier }}';
    insert into {{ key_fingerprints_table() }}
    select
        '{{ this.identifier }}',
        key,
        fingerprint
    from ({{ key_fingerprints(members_sql) }}) as fingerprints
{%- endmacro %}

{% macro first_active_date() -%}
    {#- SQL (scalar): the first date with a counted event, of any learner. -#}
    select min(activity_date) from {{ ref('fct_learner_course_days') }}
    where not is_removed
{%- endmacro %}

{% macro first_active_date_moved_later() -%}
    {#-
        SQL condition for mart_active_learners_daily: its first date is no longer active (its
        rows before the new first date would have to go), or it has none.
    -#}
    coalesce(
        ({{ first_active_date() }}) > (select min(activity_date) from {{ this }}), true
    )
{%- endmacro %}

{% macro cohort_members() -%}
    {#- SQL (key, member_id) for mart_cohort_retention_weekly's fingerprints: cohort week, user. -#}
    select
        {{ cohort_week('enrolled_at') }} as cohort_week,
        user_id
    from {{ ref('fct_enrolments') }}
    group by user_id
{%- endmacro %}

{% macro learner_weeks_changed_since(learner_days, seen, last_week_sql) -%}
    {#-
        SQL: the ISO weeks (their Mondays) of the learner-days written after `seen`, and the
        weeks after `last_week_sql` (a scalar query: the last week stored) up to as_of_date's.
    -#}
    select cast(date_trunc('week', activity_date) as date) as week_start
    from ({{ learner_dates_changed_since(learner_days, seen) }}) as changed (activity_date)

    union

    select cast(date_trunc('week', new_date) as date) as week_start
    from ({{ dates_after(last_week_sql) }}) as new_dates (new_date)
{%- endmacro %}

{% macro cohort_gone() -%}
    {#- SQL condition for mart_cohort_retention_weekly: a cohort it saw has no member left. -#}
    exists (
        select 1 from ({{ changed_key_fingerprints(cohort_members()) }}) as changed
        where is_gone
    )
{%- endmacro %}

{% macro log_recomputed(keys_sql, what) -%}
    {#- Say, in dbt's log, that this run is incremental and how many keys it recomputes. -#}
    {%- if execute -%}
        {%- set count = run_query('select count(*) from (' ~ keys_sql ~ ') as recomputed').rows[0][0] -%}
        {% do log(this ~ ": incremental, recomputing " ~ count ~ " " ~ what, info=true) %}
    {%- endif -%}
{%- endmacro %}

{% macro active_learner_dates_reached(learner_days, seen) -%}
    {#-
        SQL for mart_active_learners_daily: the dates its rows must be recomputed for - the
        dates the learner-days changed after `seen` reach (the longest window on), the new
        dates up to as_of_date, and the dates before its stored first date from the new first
        active date on.
    -#}
    {%- set longest_window = [window_days('weekly_activity_window_days'), activity_window_days()] | max -%}
    {{ dates_reached(learner_dates_changed_since(learner_days, seen), 0, longest_window - 1) }}
    union
    {{ dates_after('select max(activity_date) from ' ~ this) }}
    union
    {{ dates_after('select (' ~ first_active_date() ~ ') - 1', 'select min(activity_date) - 1 from ' ~ this) }}
{%- endmacro %}

{% macro dates_read_for(dates_sql) -%}
    {#- SQL for mart_active_learners_daily: the dates whose learner-days the rows of `dates_sql` count. -#}
    {%- set longest_window = [window_days('weekly_activity_window_days'), activity_window_days()] | max -%}
    {{ dates_reached(dates_sql, longest_window - 1, 0) }}
{%- endmacro %}
