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

{% macro activity_window_start_at() -%}
    {#- SQL literal: the first instant of the activity window (N days ending with as_of_date, inclusive). -#}
    {%- set days = var('activity_window_days') | int -%}
    {%- if days < 1 -%}
        {{ exceptions.raise_compiler_error("var activity_window_days must be a positive integer (got '" ~ var('activity_window_days') ~ "').") }}
    {%- endif -%}
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

{% macro event_type_count(counts_column, codes_var) -%}
    {#-
        SQL: how many events of the types in a code list a per-type count map holds, e.g.
        event_type_count('event_type_counts', 'quiz_completion_event_types'). The map (type ->
        count) is stored by int_user_course__daily_activity, so the code lists are applied
        here, at read time, and changing them needs no rebuild of the stored events.
    -#}
    (
    {%- for code in code_list(codes_var) -%}
        coalesce({{ counts_column }}['{{ code | lower | replace("'", "''") }}'], 0)
        {{- ' + ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}
