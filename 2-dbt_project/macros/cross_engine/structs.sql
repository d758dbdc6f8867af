{#
    A group's least row by a sort order, kept whole as a struct (arg_min / min_by), and a
    struct's fields as columns again.
#}

{% macro least_by(fields, sort_columns) -%}
    {#-
        SQL aggregate: a struct of `fields` (column names) from the row of the group that
        comes first ordered by `sort_columns` ascending, nulls last in each.
    -#}
    {{ return(adapter.dispatch('least_by', 'course_engagement')(fields, sort_columns)) }}
{%- endmacro %}

{% macro default__least_by(fields, sort_columns) -%}
    arg_min(
        struct_pack({{ fields | join(', ') }}),
        create_sort_key(
            {%- for column in sort_columns %}
            {{ column }}, 'asc nulls last'{{ ',' if not loop.last }}
            {%- endfor %}
        )
    )
{%- endmacro %}

{% macro spark__least_by(fields, sort_columns) -%}
    {#- a struct compares field by field; `is null` before each value puts nulls last -#}
    min_by(
        named_struct(
            {%- for field in fields %}
            '{{ field }}', {{ field }}{{ ',' if not loop.last }}
            {%- endfor %}
        ),
        named_struct(
            {%- for column in sort_columns %}
            '{{ column }}_is_null', {{ column }} is null,
            '{{ column }}', {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    )
{%- endmacro %}

{% macro struct_fields(struct) -%}
    {#- Select item: every field of a struct column, as columns named as the fields. -#}
    {{ return(adapter.dispatch('struct_fields', 'course_engagement')(struct)) }}
{%- endmacro %}

{% macro default__struct_fields(struct) -%}
    unnest({{ struct }})
{%- endmacro %}

{% macro spark__struct_fields(struct) -%}
    {{ struct }}.*
{%- endmacro %}
