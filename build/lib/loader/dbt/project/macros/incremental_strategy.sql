{#- How the incremental models replace the records of a batch, chosen per adapter here and only
    here (the models call these two macros in their config):
    - DuckDB: incremental, `delete+insert` on the model's `unique_key`;
    - Spark on Delta, Iceberg or Hudi tables (SPARK_FILE_FORMAT): incremental, `merge`;
    - Spark on plain Parquet tables (the default: no Delta or Iceberg jars needed): Parquet has no
      row-level delete or merge, and Spark refuses to overwrite a table that the same statement
      reads, so these models are rebuilt whole each run (dbt's `table`): a full refresh by
      construction. The append-only `*_versions` models stay incremental (`append`) everywhere. -#}
{% macro hatch_incremental_strategy() -%}
    {{ return(adapter.dispatch('hatch_incremental_strategy', 'hatch_analytics')()) }}
{%- endmacro %}

{% macro default__hatch_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__hatch_incremental_strategy() -%}
    {{ return('merge' if hatch_analytics.spark_table_format() else none) }}
{%- endmacro %}

{#- The materialization of the models that replace records: `incremental`, or `table` where the
    table format cannot replace rows (see above). -#}
{% macro hatch_incremental_materialization() -%}
    {{ return(adapter.dispatch('hatch_incremental_materialization', 'hatch_analytics')()) }}
{%- endmacro %}

{% macro default__hatch_incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__hatch_incremental_materialization() -%}
    {{ return('incremental' if hatch_analytics.spark_table_format() else 'table') }}
{%- endmacro %}

{#- The table format of Spark models when it supports merge (delta, iceberg, hudi), else none. -#}
{% macro spark_table_format() -%}
    {%- set file_format = env_var('SPARK_FILE_FORMAT', 'parquet') -%}
    {{ return(file_format if file_format in ['delta', 'iceberg', 'hudi'] else none) }}
{%- endmacro %}
