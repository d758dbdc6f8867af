{#
    Every row satisfies a boolean SQL expression (a null result fails too). Column-level use
    prefixes the column: `expression: ">= 0"`.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(
    {%- if column_name is not none %} {{ column_name }} {% endif %}{{ expression }},
    false
)

{% endtest %}
