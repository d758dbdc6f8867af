{#
    The business constants, read from the vars in dbt_project.yml. Models call these macros
    instead of repeating a date, a window or a code list.
#}

{% macro as_of_date_value() -%}
    {#- The as_of_date var as a Python date; today (UTC) when the var is not set. -#}
    {%- set raw_value = var('as_of_date', none) -%}
    {%- if raw_value is none or (raw_value | string | trim) in ('', 'None', 'null') -%}
        {{ return(modules.datetime.datetime.now(modules.pytz.utc).date()) }}
    {%- endif -%}
    {%- set text = raw_value | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error(
            "var as_of_date must be a date written YYYY-MM-DD (got '" ~ text ~ "'). "
            ~ "Pass it as --vars '{as_of_date: 2026-01-31}' or leave it unset for today (UTC)."
        ) }}
    {%- endif -%}
    {{ return(modules.datetime.datetime.strptime(text, '%Y-%m-%d').date()) }}
{%- endmacro %}

{% macro as_of_date() -%}
    {#- SQL literal: the date the metrics are computed at. -#}
    cast('{{ as_of_date_value().isoformat() }}' as date)
{%- endmacro %}

{% macro as_of_end_at() -%}
    {#- SQL literal: the first instant after as_of_date; counted events are strictly before it. -#}
    cast('{{ (as_of_date_value() + modules.datetime.timedelta(days=1)).isoformat() }}' as timestamp)
{%- endmacro %}

{% macro window_days(name) -%}
    {#- A window length in days from a var, checked: window_days('activity_window_days') -> 30. -#}
    {%- set days = var(name) | int -%}
    {%- if days < 1 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a positive integer (got '" ~ var(name) ~ "').") }}
    {%- endif -%}
    {{ return(days) }}
{%- endmacro %}

{% macro activity_window_start_at() -%}
    {#- SQL literal: the first instant of the activity window (N days ending with as_of_date, inclusive). -#}
    {%- set days = activity_window_days() -%}
    cast('{{ (as_of_date_value() - modules.datetime.timedelta(days=days - 1)).isoformat() }}' as timestamp)
{%- endmacro %}

{% macro code_list(name) -%}
    {#- A list of valid codes from vars, e.g. code_list('valid_event_types'). -#}
    {%- set values = var(name, none) -%}
    {%- if values is none or values is string or values | length == 0 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a non-empty list of codes; see vars in dbt_project.yml.") }}
    {%- endif -%}
    {{ return(values) }}
{%- endmacro %}

{% macro sql_values(values, lower=false) -%}
    {#- A SQL list literal ('a', 'b') from a Python list. -#}
    (
    {%- for value in values -%}
        '{{ (value | lower if lower else value) | replace("'", "''") }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}

{% macro codes_sql(name) -%}
    {#- The valid codes of a list, lower-cased as base models store them: ('a', 'b'). -#}
    {{ sql_values(code_list(name), lower=true) }}
{%- endmacro %}

{% macro event_type_count_column(code) -%}
    {#- The per-type count column of int_user_course__daily_activity for a code: quiz_submit_count. -#}
    {{ modules.re.sub('[^a-z0-9_]', '_', code | lower) }}_count
{%- endmacro %}

{% macro event_type_count_columns() -%}
    {#-
        The per-type count columns of int_user_course__daily_activity: one per valid event type,
        then unknown_type_count. They follow var valid_event_types, so changing the var changes
        the model's columns, and its next incremental run stops (on_schema_change='fail') until
        it is rebuilt with --full-refresh - the stored counts cannot silently miss a type.
    -#}
    {%- set columns = [] -%}
    {%- for code in code_list('valid_event_types') -%}
        {%- do columns.append(event_type_count_column(code)) -%}
    {%- endfor -%}
    {{ return(columns + ['unknown_type_count']) }}
{%- endmacro %}

{% macro count_event_types(type_column, weight=none, present=none) -%}
    {#-
        SQL select list: events per valid event type, then the unknown or missing ones. Each
        counts one per row (`present`: per row where that column is not null), or adds up
        `weight` (+1 / -1 for events added to or taken off a day).
    -#}
    {%- if weight -%}
        {%- set tally = 'coalesce(sum(' ~ weight ~ ')' -%}
        {%- set close = ', 0)' -%}
    {%- else -%}
        {%- set tally = 'count(' ~ (present or '*') ~ ')' -%}
        {%- set close = '' -%}
    {%- endif -%}
    {%- for code in code_list('valid_event_types') %}
        {{ tally }} filter (
            where {{ type_column }} = '{{ code | lower | replace("'", "''") }}'
        ){{ close }} as {{ event_type_count_column(code) }},
    {%- endfor %}
        {{ tally }} filter (
            where {{ type_column }} is null
            or {{ type_column }} not in {{ codes_sql('valid_event_types') }}
        ){{ close }} as unknown_type_count
{%- endmacro %}

{% macro event_type_count(codes_var) -%}
    {#-
        SQL: the events of the types in a code list, from the per-type count columns, e.g.
        event_type_count('quiz_completion_event_types') -> (quiz_submit_count). The code lists
        apply here, at read time, so changing them needs no rebuild of the stored counts.
    -#}
    {%- set valid = code_list('valid_event_types') | map('lower') | list -%}
    (
    {%- for code in code_list(codes_var) -%}
        {%- if code | lower not in valid -%}
            {{ exceptions.raise_compiler_error(
                "var " ~ codes_var ~ " lists '" ~ code ~ "', which is not in var valid_event_types; "
                ~ "add it there too (and rebuild with dbt build --full-refresh)."
            ) }}
        {%- endif -%}
        {{ event_type_count_column(code) }}{{ ' + ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}

{% macro activity_window_days() -%}
    {#- The activity window length in days (var activity_window_days), a positive integer. -#}
    {{ return(window_days('activity_window_days')) }}
{%- endmacro %}

{% macro course_health_weeks(name) -%}
    {#- A week count of the course health rules (var course_health_baseline_weeks or course_health_new_weeks), at least 1. -#}
    {%- set text = var(name, none) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', text) or text | int < 1 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a whole number of weeks, at least 1 (got '" ~ text ~ "'); see vars in dbt_project.yml.") }}
    {%- endif -%}
    {{ return(text | int) }}
{%- endmacro %}

{% macro course_health_change(name) -%}
    {#- SQL literal: a change threshold of the course health rules (var course_health_growing_change or course_health_declining_change), a fraction of the baseline. -#}
    {%- set text = var(name, none) | string | trim -%}
    {%- if not modules.re.match('^-?[0-9]+(\\.[0-9]+)?$', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a number such as 0.2 (a fraction of the baseline; got '" ~ text ~ "'); see vars in dbt_project.yml.") }}
    {%- endif -%}
    {%- if var('course_health_growing_change') | float <= var('course_health_declining_change') | float -%}
        {{ exceptions.raise_compiler_error("var course_health_growing_change must be greater than var course_health_declining_change; see vars in dbt_project.yml.") }}
    {%- endif -%}
    cast({{ text }} as double)
{%- endmacro %}

{% macro cohort_week(enrolled_at) -%}
    {#- SQL (an aggregate per learner): their cohort, the Monday of the ISO week of their earliest enrolment. -#}
    cast(date_trunc('week', min({{ enrolled_at }})) as date)
{%- endmacro %}
