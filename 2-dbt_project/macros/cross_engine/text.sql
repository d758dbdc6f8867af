{#
    Text functions whose name or arguments differ: trimming a set of characters from both ends
    is DuckDB's trim(text, characters) and Spark's btrim(text, characters).
#}

{% macro trim_characters(column, characters) -%}
    {#- SQL: `column` without any of `characters` (an SQL string) at either end. -#}
    {{ return(adapter.dispatch('trim_characters', 'course_engagement')(column, characters)) }}
{%- endmacro %}

{% macro default__trim_characters(column, characters) -%}
    trim({{ column }}, {{ characters }})
{%- endmacro %}

{% macro spark__trim_characters(column, characters) -%}
    btrim({{ column }}, {{ characters }})
{%- endmacro %}
