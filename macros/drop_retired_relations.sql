{#- Tables an earlier version of this project built and this one no longer does: dbt never drops a
    model removed from the project, so an upgraded warehouse would keep a stale copy (and readers
    could mistake it for a current one). Dropped at the start of `dbt build` and `dbt run`
    (`on-run-start`), the commands that write models; a `drop ... if exists` per table. Other
    commands (`docs generate`, `test`, `show`, on the read-only target too) leave the file alone.
    - `intermediate.int_hatch__message_status_timings`: `fct_messages` computes the status timings
      from its batch's histories since 0.1.0. -#}
{% macro drop_retired_relations() -%}
    {%- set retired = [
        ('intermediate', 'int_hatch__message_status_timings'),
    ] -%}
    {%- if flags.WHICH not in ['build', 'run'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- for schema, identifier in retired -%}
    {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=identifier, type='table') %}
    drop table if exists {{ relation }};
    {%- endfor %}
{%- endmacro %}
