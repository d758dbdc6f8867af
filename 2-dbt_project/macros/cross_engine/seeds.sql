{#
    Seeds on Spark. dbt-spark's session method fills the seed's insert with its values as
    '<value>' without escaping (a quote in a definition breaks the statement) and writes a
    missing value as the text 'None'. This writes each value as an SQL literal instead: null,
    a number or boolean as it is, text quoted with backslash escapes, as Spark reads them.
    dbt looks for dbt's own macros in the root project first, so this one replaces dbt-spark's.
#}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set sql -%}
        insert into {{ this.render() }} values
        {%- for row in agate_table.rows %}
        (
            {%- for column_name in agate_table.column_names -%}
                {%- set type = column_types.get(column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                cast({{ seed_literal(row[loop.index0]) }} as {{ type }}){{ ', ' if not loop.last }}
            {%- endfor -%}
        ){{ ',' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {{ return(sql) }}
{% endmacro %}

{% macro seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ value | string | lower }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
