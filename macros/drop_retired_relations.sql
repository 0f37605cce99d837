{#- Tables an earlier version of this project built and this one no longer does: dbt never drops a
    model removed from the project, so an upgraded warehouse would keep a stale copy (and readers
    could mistake it for a current one). Dropped at the start of every run (`on-run-start`); a
    `drop ... if exists` per table, nothing when they are gone.
    - `intermediate.int_hatch__message_status_timings`: `fct_messages` computes the status timings
      from its batch's histories since 0.1.0. -#}
{% macro drop_retired_relations() -%}
    {%- set retired = [
        ('intermediate', 'int_hatch__message_status_timings'),
    ] -%}
    {%- for schema, identifier in retired -%}
    {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=identifier, type='table') %}
    drop table if exists {{ relation }};
    {%- endfor %}
{%- endmacro %}
