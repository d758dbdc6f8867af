{#
    Lists (DuckDB) / arrays (Spark) of values: collected by an aggregate, made of one value,
    merged into a sorted set, counted. The two engines differ in names and in nulls: DuckDB's
    list_distinct drops nulls and list_concat skips a null list, Spark's array_distinct keeps a
    null and concat returns null; the Spark versions do what DuckDB's do.
#}

{% macro list_of(column) -%}
    {#- SQL aggregate: the values of `column` in a group, as a list (null values kept out). -#}
    {{ return(adapter.dispatch('list_of', 'course_engagement')(column)) }}
{%- endmacro %}

{% macro default__list_of(column) -%}
    list({{ column }})
{%- endmacro %}

{% macro spark__list_of(column) -%}
    collect_list({{ column }})
{%- endmacro %}

{% macro list_of_one(value) -%}
    {#- SQL: a list holding `value`. -#}
    {{ return(adapter.dispatch('list_of_one', 'course_engagement')(value)) }}
{%- endmacro %}

{% macro default__list_of_one(value) -%}
    [{{ value }}]
{%- endmacro %}

{% macro spark__list_of_one(value) -%}
    array({{ value }})
{%- endmacro %}

{% macro sorted_set_of(first_list, second_list) -%}
    {#- SQL: the distinct non-null values of two lists (a null list adds nothing), ascending. -#}
    {{ return(adapter.dispatch('sorted_set_of', 'course_engagement')(first_list, second_list)) }}
{%- endmacro %}

{% macro default__sorted_set_of(first_list, second_list) -%}
    list_sort(list_distinct(list_concat({{ first_list }}, {{ second_list }})))
{%- endmacro %}

{% macro spark__sorted_set_of(first_list, second_list) -%}
    array_sort(array_compact(array_distinct(concat(
        coalesce({{ first_list }}, array()), coalesce({{ second_list }}, array())
    ))))
{%- endmacro %}

{% macro list_length(list) -%}
    {#- SQL: the number of elements of a list; null for a null list. -#}
    {{ return(adapter.dispatch('list_length', 'course_engagement')(list)) }}
{%- endmacro %}

{% macro default__list_length(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro spark__list_length(list) -%}
    {#- size(null) is -1 unless ANSI mode is on, which dbt-spark turns off -#}
    if({{ list }} is null, null, size({{ list }}))
{%- endmacro %}
