{#
    Quality thresholds, read from the vars in dbt_project.yml. A threshold that is not a share
    stops the build with the var's name, instead of a test that silently passes everything.
#}

{% macro max_share(name) -%}
    {#- A share var (0 to 1) as a SQL double literal, e.g. max_share('max_unknown_event_type_share'). -#}
    {%- set raw_value = var(name, none) -%}
    {%- set value = raw_value | float(-1) -%}
    {%- if raw_value is none or value < 0 or value > 1 -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a share between 0 and 1 (got '" ~ raw_value ~ "'); "
            ~ "see vars in dbt_project.yml."
        ) }}
    {%- endif -%}
    cast({{ value }} as double)
{%- endmacro %}

{% macro share_text(share) -%}
    {#- SQL: a share as a percentage with two decimals, e.g. '12.50%'. -#}
    printf('%.2f%%', 100 * {{ share }})
{%- endmacro %}
