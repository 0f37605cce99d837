{#- on-run-end: whether this dbt command succeeded (no node errored or failed), for the
    `working_copy` dbt-duckdb plugin (loader/dbt/working_copy.py), which publishes the working
    copy of the warehouse only then. Other adapters write their tables in place: nothing to do. -#}
{% macro record_run_outcome(results) -%}
    {{ return(adapter.dispatch('record_run_outcome', 'hatch_analytics')(results)) }}
{%- endmacro %}

{% macro default__record_run_outcome(results) -%}
{%- endmacro %}

{% macro duckdb__record_run_outcome(results) -%}
    {%- set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list -%}
    create schema if not exists loader;
    create or replace table loader.dbt_run_outcome as
    select
        '{{ invocation_id }}' as invocation_id,
        '{{ flags.WHICH }}' as command,
        {{ 'false' if failed else 'true' }} as succeeded,
        current_timestamp as finished_at;
{%- endmacro %}
