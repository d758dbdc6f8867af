{#
    How mart_course_health_weekly stays incremental.

    The mart keeps, in the bookkeeping table incremental_watermarks (outside its contract and
    its CSV), the newest changed_at of fct_learner_course_days it has read and the as_of_date
    it was built at (a post-hook, in the model's transaction; read and written by the macros
    of learner_day_changes.sql, as the other two marts do). A run recomputes the course x
    weeks that what changed since then reaches (course_health_changed_weeks), deletes and
    inserts them, and restamps as_of_date on the rest. It rebuilds in full when it has no
    watermark, when as_of_date moved backwards, when the fact was rebuilt (no row as old as
    the watermark), when the first week moved, or when a course left the catalogue.
#}

{% macro course_health_watermark() -%}
    {#-
        The newest changed_at of the learner-day fact this mart has read, as a SQL literal, or
        none when it must rebuild in full (see the header): learner_days_seen's rules, and the
        first week moved or a course left the catalogue.
    -#}
    {%- set learner_days = ref('fct_learner_course_days') -%}
    {%- set first_week_moved_or_course_gone -%}
        (select min(week_start) from {{ this }}) is distinct from (
            select cast(date_trunc('week', min(activity_date)) as date)
            from {{ learner_days }}
            where not is_removed
        )
        or exists (
            select course_id from {{ this }}
            except
            select course_id from {{ ref('dim_courses') }}
        )
    {%- endset -%}
    {{ return(learner_days_seen(learner_days, first_week_moved_or_course_gone)) }}
{%- endmacro %}

{% macro reset_course_health_when_rebuilt() -%}
    {#- Pre-hook: empty the mart when this run rebuilds it in full (see the header). -#}
    {%- if execute and this is not none and is_incremental() and course_health_watermark() is none -%}
        {% do log(this ~ ": no usable watermark, as_of_date moved back, the learner days were rebuilt, the first week moved or a course left the catalogue - rebuilding it in full", info=true) %}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{% macro remember_course_health_watermark() -%}
    {#-
        Post-hook, in the model's transaction: as_of_date on every row (the rows this run did
        not recompute keep their numbers), and the watermark (see the header), with the rows
        the run wrote (its temporary table's, dbt's `<model>__dbt_tmp...`; every row on a build
        that replaces the table; null if that table is not found).
    -#}
    {%- if rebuilt_every_run() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set written = this -%}
    {%- if execute and this is not none and is_incremental() and not flags.FULL_REFRESH -%}
        {%- set temporary = run_query(
            "select table_name from duckdb_tables() where temporary and table_name like '"
            ~ this.identifier ~ "__dbt_tmp%' order by table_name desc limit 1"
        ).columns[0].values() -%}
        {%- set written = temporary[0] if temporary | length == 1 else none -%}
    {%- endif -%}
    update {{ this }} set as_of_date = {{ as_of_date() }} where as_of_date != {{ as_of_date() }};
    {{ remember_learner_days_seen(
        ref('fct_learner_course_days'),
        '(select count(*) from ' ~ written ~ ')' if written is not none else 'null'
    ) }}
{%- endmacro %}

{% macro course_health_changed_weeks(watermark, course_weeks, learner_steps, first_active_weeks) -%}
    {#-
        SQL: the course x weeks (of `course_weeks`) whose row can differ from the stored one.
        A learner-day changed since `watermark` reaches its week's counts, the 30-day windows
        ending up to window - 1 days after it, and the next weeks' previous week and baseline.
        A learner step (a learner's first week) that differs from the stored learners' reaches
        every later week of its course; a new course or a course whose first active week moved
        (status 'new') all its weeks; as_of_date moved forward the week that held the old one
        and the weeks after it.
    -#}
    {%- set baseline_days = 7 * course_health_weeks('course_health_baseline_weeks') -%}
    with

    stored_weeks as (

        select
            course_id,
            week_start,
            active_learners,
            as_of_date,
            learners - coalesce(
                lag(learners) over (partition by course_id order by week_start), 0
            ) as learner_step
        from {{ this }}

    ),

    stored_courses as (

        select
            course_id,
            min(week_start) filter (where active_learners > 0) as first_active_week_start
        from stored_weeks
        group by course_id

    ),

    reaches as (

        select distinct
            course_id,
            cast(date_trunc('week', activity_date) as date) as from_week,
            cast(date_trunc('week', activity_date + ({{ activity_window_days() }} - 1)) as date)
            + {{ baseline_days }} as until_week
        from {{ ref('fct_learner_course_days') }}
        where changed_at > {{ watermark }}

        union all

        select
            coalesce(current_steps.course_id, stored_weeks.course_id) as course_id,
            min(coalesce(current_steps.week_start, stored_weeks.week_start)) as from_week,
            date '9999-12-31' as until_week
        from {{ learner_steps }} as current_steps
        full outer join stored_weeks
            on
                current_steps.course_id = stored_weeks.course_id
                and current_steps.week_start = stored_weeks.week_start
        where coalesce(current_steps.step, 0) != coalesce(stored_weeks.learner_step, 0)
        group by coalesce(current_steps.course_id, stored_weeks.course_id)

        union all

        select
            current_courses.course_id,
            date '0001-01-01' as from_week,
            date '9999-12-31' as until_week
        from (select distinct course_id from {{ course_weeks }}) as current_courses
        left join {{ first_active_weeks }} as first_active_weeks
            on current_courses.course_id = first_active_weeks.course_id
        left join stored_courses
            on current_courses.course_id = stored_courses.course_id
        where
            stored_courses.course_id is null
            or first_active_weeks.first_active_week_start
            is distinct from stored_courses.first_active_week_start

        union all

        select
            course_id,
            cast(date_trunc('week', max(as_of_date)) as date) as from_week,
            date '9999-12-31' as until_week
        from stored_weeks
        group by course_id
        having max(as_of_date) < {{ as_of_date() }}

    )

    select distinct
        course_weeks.course_id,
        course_weeks.week_start
    from {{ course_weeks }} as course_weeks
    inner join reaches
        on
            course_weeks.course_id = reaches.course_id
            and course_weeks.week_start between reaches.from_week and reaches.until_week
{%- endmacro %}

{% macro course_health_reads_from(changed_weeks) -%}
    {#-
        SQL: the first date whose learner days the recomputed weeks of `changed_weeks` read: the
        baseline's weeks before the first of them, and the 30-day window of the earliest.
    -#}
    (
        select
            min(week_start)
            - 7 * {{ course_health_weeks('course_health_baseline_weeks') }}
            - {{ activity_window_days() }}
        from {{ changed_weeks }}
    )
{%- endmacro %}
