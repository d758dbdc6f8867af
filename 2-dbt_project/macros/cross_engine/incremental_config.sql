{#
    The config of an incremental model on each engine: config(incremental_strategy=
    incremental_strategy_for('merge'), full_refresh=rebuilt_every_run()). DuckDB keeps the
    model's strategy and dbt's --full-refresh flag. Spark (dbt-spark, plain parquet tables: no
    merge, no delete+insert) rebuilds every model in full on every build for now; its
    strategy is then only validated, never run.
#}

{% macro incremental_strategy_for(strategy) -%}
    {#- The model's incremental strategy on DuckDB (merge, delete+insert), or this engine's. -#}
    {{ return(adapter.dispatch('incremental_strategy_for', 'course_engagement')(strategy)) }}
{%- endmacro %}

{% macro default__incremental_strategy_for(strategy) -%}
    {{ return(strategy) }}
{%- endmacro %}

{% macro spark__incremental_strategy_for(strategy) -%}
    {{ return('append') }}
{%- endmacro %}

{% macro rebuilt_every_run() -%}
    {#- config full_refresh: none (dbt's --full-refresh flag decides) or true (always). -#}
    {{ return(adapter.dispatch('rebuilt_every_run', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__rebuilt_every_run() -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__rebuilt_every_run() -%}
    {{ return(true) }}
{%- endmacro %}
