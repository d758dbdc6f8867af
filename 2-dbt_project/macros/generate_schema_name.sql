{#
    Write every model into the target schema (`analytics`) exactly, or into a custom schema
    named as-is: dbt's default would prefix it (`analytics_analytics`).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
