{#
    A composite-key relationships test: every non-null combination of `columns` in the model
    exists in `to` (matched on the same column names, or on `to_columns` when given).
    dbt's built-in relationships test takes one column only.
#}
{% test relationships_composite(model, to, columns, to_columns=none) %}

{%- set parent_columns = to_columns if to_columns is not none else columns %}

with

child as (

    select {{ columns | join(', ') }}
    from {{ model }}
    where
        {%- for column in columns %}
        {{ 'and ' if not loop.first }}{{ column }} is not null
        {%- endfor %}

),

parent as (

    select
        {%- for column in parent_columns %}
        {{ column }} as {{ columns[loop.index0] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ to }}

)

select child.*
from child
left join parent
    on
        {%- for column in columns %}
        {{ 'and ' if not loop.first }}child.{{ column }} = parent.{{ column }}
        {%- endfor %}
where parent.{{ columns[0] }} is null

{% endtest %}
