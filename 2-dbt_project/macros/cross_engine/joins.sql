{#
    Semi and anti joins: `from a <semi_join()> b on ...` keeps the rows of a with (without) a
    match in b, each once. DuckDB spells them semi join / anti join, Spark left semi join /
    left anti join.
#}

{% macro semi_join() -%}
    {{ return(adapter.dispatch('semi_join', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__semi_join() -%}
    semi join
{%- endmacro %}

{% macro spark__semi_join() -%}
    left semi join
{%- endmacro %}

{% macro anti_join() -%}
    {{ return(adapter.dispatch('anti_join', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__anti_join() -%}
    anti join
{%- endmacro %}

{% macro spark__anti_join() -%}
    left anti join
{%- endmacro %}
