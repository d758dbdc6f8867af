{#
    Cleaning helpers for base models. "Whitespace" is spaces, tabs, carriage returns and
    newlines (DuckDB's one-argument trim() removes spaces only; trim_characters() is
    macros/cross_engine/text.sql).
#}

{% macro whitespace_chars() -%}
    chr(32) || chr(9) || chr(10) || chr(13)
{%- endmacro %}

{% macro clean_text(column) -%}
    {#- Trimmed text; empty or blank becomes null. -#}
    nullif({{ trim_characters(column, whitespace_chars()) }}, '')
{%- endmacro %}

{% macro clean_code(column) -%}
    {#- A categorical code: trimmed, lower-cased; empty or blank becomes null. -#}
    lower({{ clean_text(column) }})
{%- endmacro %}

{% macro is_blank(column) -%}
    ({{ clean_text(column) }} is null)
{%- endmacro %}

{% macro is_code_variant(column, codes_var) -%}
    {#-
        True when the raw value is not spelled as in the contract but is a valid code after
        trim + lower-case (e.g. ' Active', 'QUIZ_SUBMIT').
    -#}
    coalesce(
        {{ column }} not in {{ sql_values(code_list(codes_var)) }}
        and {{ clean_code(column) }} in {{ codes_sql(codes_var) }},
        false
    )
{%- endmacro %}

{% macro canonical_spelling(column, spellings_var) -%}
    {#-
        A name restored to its canonical spelling from a list (' data science' ->
        'Data Science'); a value not in the list is kept trimmed; blank becomes null.
    -#}
    case lower({{ clean_text(column) }})
        {%- for spelling in code_list(spellings_var) %}
        when '{{ spelling | lower | replace("'", "''") }}' then '{{ spelling | replace("'", "''") }}'
        {%- endfor %}
        else {{ clean_text(column) }}
    end
{%- endmacro %}
