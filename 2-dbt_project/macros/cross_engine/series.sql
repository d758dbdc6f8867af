{#
    Series of dates and integers, one row each: a select-list item that yields several rows
    (DuckDB unnest, Spark explode, which must stand alone, not inside another expression).
    Empty when the start is after the stop, on both engines (Spark's sequence would count down,
    or fail on a positive step).
#}

{% macro date_series(start_date, stop_date, step_days=1) -%}
    {#- Select item: every date from `start_date` to `stop_date` inclusive, `step_days` apart. -#}
    {{ return(adapter.dispatch('date_series', 'course_engagement')(start_date, stop_date, step_days)) }}
{%- endmacro %}

{% macro default__date_series(start_date, stop_date, step_days) -%}
    cast(
        unnest(
            generate_series(
                cast({{ start_date }} as timestamp),
                cast({{ stop_date }} as timestamp),
                interval {{ step_days }} day
            )
        ) as date
    )
{%- endmacro %}

{% macro spark__date_series(start_date, stop_date, step_days) -%}
    explode(
        case
            when cast({{ start_date }} as date) <= cast({{ stop_date }} as date)
                then sequence(
                    cast({{ start_date }} as date),
                    cast({{ stop_date }} as date),
                    interval {{ step_days }} day
                )
        end
    )
{%- endmacro %}

{% macro integer_series(start, stop) -%}
    {#- Select item: every integer (bigint) from `start` to `stop` inclusive. -#}
    {{ return(adapter.dispatch('integer_series', 'course_engagement')(start, stop)) }}
{%- endmacro %}

{% macro default__integer_series(start, stop) -%}
    unnest(range({{ start }}, {{ stop }} + 1))
{%- endmacro %}

{% macro spark__integer_series(start, stop) -%}
    explode(
        case
            when {{ start }} <= {{ stop }}
                then sequence(cast({{ start }} as bigint), cast({{ stop }} as bigint))
        end
    )
{%- endmacro %}
