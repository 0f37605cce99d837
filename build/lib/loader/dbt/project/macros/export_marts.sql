{#- `dbt run-operation export_marts_to_directory --args '{directory: DIR}'`: each mart (the
    `marts` group) written by the engine as one Parquet file under `DIR/<mart>/`, for
    `python -m loader export-parquet` on the spark target (DuckDB's marts are exported by the
    loader itself, from the published file). Timestamps follow the session (UTC, microseconds). -#}
{% macro export_marts_to_directory(directory) -%}
    {{ return(adapter.dispatch('export_marts_to_directory', 'hatch_analytics')(directory)) }}
{%- endmacro %}

{% macro default__export_marts_to_directory(directory) -%}
    {{ exceptions.raise_compiler_error("export_marts_to_directory: the loader exports " ~ adapter.type() ~ " marts itself") }}
{%- endmacro %}

{% macro spark__export_marts_to_directory(directory) -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
            if node.resource_type == 'model' and node.config.group == 'marts' -%}
        {%- call statement('export_' ~ node.name) -%}
            insert overwrite directory '{{ directory }}/{{ node.alias }}' using parquet
            select /*+ COALESCE(1) */ * from {{ node.schema }}.{{ node.alias }}
        {%- endcall -%}
    {%- endfor -%}
{%- endmacro %}
