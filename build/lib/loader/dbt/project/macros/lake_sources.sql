{#- on-run-start: on Spark, the raw sources are external Parquet tables over the raw lake the
    loader writes (`{LAKE_URL}/raw/<table>/<sha256>.parquet`, loader/load/lake.py), declared here
    with the sources' documented columns, so a build needs no manual step. Dropping such a table
    leaves its files alone; it is declared again every run, so a new column in the sources' yml
    takes effect at once. DuckDB reads the loader's raw tables directly: nothing to do. -#}
{% macro create_lake_sources() -%}
    {{ return(adapter.dispatch('create_lake_sources', 'hatch_analytics')()) }}
{%- endmacro %}

{% macro default__create_lake_sources() -%}
{%- endmacro %}

{% macro spark__create_lake_sources() -%}
    {%- if execute -%}
    {%- set lake = hatch_analytics.lake_location() -%}
    {%- set types = {'varchar': 'string', 'json': 'string', 'timestamp with time zone': 'timestamp'} -%}
    {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- set columns = source.columns.values() | list -%}
        {%- set relation = source.schema ~ '.' ~ source.identifier -%}
        {%- do run_query('create database if not exists ' ~ source.schema) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- call statement('lake_source_' ~ source.identifier) -%}
        create table {{ relation }} (
            {%- for column in columns %}
            `{{ column.name }}` {{ types.get(column.data_type | lower, column.data_type) }}{{ "," if not loop.last }}
            {%- endfor %}
        )
        using parquet
        location '{{ lake }}/raw/{{ source.identifier }}'
        {%- endcall -%}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The lake as Spark names it: LAKE_URL (default `lake`, beside the project), `s3://` read
    through Hadoop's `s3a://`. -#}
{% macro lake_location() -%}
    {%- set url = env_var('LAKE_URL', 'lake') | replace('file://', '') -%}
    {{ return(url.replace('s3://', 's3a://', 1) if url.startswith('s3://') else url) }}
{%- endmacro %}
