{#
    Every column of a one-row relation of counts as rows (name, count), a null count as 0:
    mart_data_quality's defect counts. DuckDB unpivots columns(*); Spark's UNPIVOT needs the
    columns named, so it goes through a map of the row (every count is a bigint).
#}

{% macro unpivot_counts(relation, name_column, count_column) -%}
    {#- SQL query: one row per column of `relation` (a one-row CTE): its name, its value. -#}
    {{ return(adapter.dispatch('unpivot_counts', 'course_engagement')(relation, name_column, count_column)) }}
{%- endmacro %}

{% macro default__unpivot_counts(relation, name_column, count_column) -%}
    unpivot (select coalesce(columns(*), 0) from {{ relation }})
    on columns(*)
    into name {{ name_column }} value {{ count_column }}
{%- endmacro %}

{% macro spark__unpivot_counts(relation, name_column, count_column) -%}
    select
        key as {{ name_column }},
        coalesce(value, 0) as {{ count_column }}
    from (
        select
            explode(from_json(
                to_json(struct(*), map('ignoreNullFields', 'false')), 'map<string, bigint>'
            ))
        from {{ relation }}
    ) as counts
{%- endmacro %}
