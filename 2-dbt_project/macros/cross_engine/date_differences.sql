{#
    Whole days and weeks between two dates, as integers. DuckDB subtracts dates to a number of
    days; Spark subtracts them to an interval, and counts days with datediff.
#}

{% macro days_between(start_date, end_date) -%}
    {#- SQL: the days from `start_date` to `end_date` (negative when it is earlier). -#}
    {{ return(adapter.dispatch('days_between', 'course_engagement')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}

{% macro weeks_between(start_week, end_week) -%}
    {#- SQL: the whole weeks from `start_week` to `end_week` (Mondays: exact), rounded down. -#}
    {{ return(adapter.dispatch('weeks_between', 'course_engagement')(start_week, end_week)) }}
{%- endmacro %}

{% macro default__weeks_between(start_week, end_week) -%}
    ({{ end_week }} - {{ start_week }}) // 7
{%- endmacro %}

{% macro spark__weeks_between(start_week, end_week) -%}
    floor(datediff({{ end_week }}, {{ start_week }}) / 7)
{%- endmacro %}
