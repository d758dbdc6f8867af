{#
    Reads limited to the dates a run changed, as literals.

    A daily run touches few dates (the day, and the days of late or re-delivered events), but
    they are known only once the upstream model has run. This macro asks, when the model
    compiles (just before it runs), which dates a query returns, and writes them as literal
    ranges of consecutive dates: `event_at >= '2026-03-01' and event_at < '2026-03-03' or ...`.
    DuckDB answers literals from the row groups' statistics (zone maps), so the tables it
    filters - stored in date order, mostly - are read for those dates only. A join or an
    IN (subquery) would read every row.
#}

{% macro within_dates_of(column, dates_sql, column_type='date') -%}
    {#-
        SQL predicate: `column` (a date, or a timestamp with column_type='timestamp') falls on
        a date that `dates_sql` (a query of one date or timestamp column) returns; false when
        it returns none.
    -#}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set ranges_sql -%}
        select
            cast(min(day) as string) as first_day,
            cast(max(day) + 1 as string) as day_after
        from (
            select
                day,
                day - cast(row_number() over (order by day) as integer) as island
            from (
                select distinct cast(changed_date as date) as day
                from ({{ dates_sql }}) as dates (changed_date)
                where changed_date is not null
            ) as days
        ) as numbered
        group by island
        order by first_day
    {%- endset -%}
    {%- set ranges = run_query(ranges_sql).rows -%}
    {%- if ranges | length == 0 -%}
        {{ return('false') }}
    {%- endif -%}
    (
    {%- for first_day, day_after in ranges %}
        {{ 'or ' if not loop.first }}({{ column }} >= cast('{{ first_day }}' as {{ column_type }}) and {{ column }} < cast('{{ day_after }}' as {{ column_type }}))
    {%- endfor %}
    )
{%- endmacro %}
