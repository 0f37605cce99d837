{#- ref() and source() render `schema.table`, without the database. dbt-duckdb names the database
    after the file, and the loader builds in a working copy under another name before publishing
    it (loader/warehouse/): views must not hard-code the working file's catalog, or they break
    once the file is renamed. Unqualified names resolve in whichever file holds the view. -#}
{% macro ref() %}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if relation is not none and relation.include is defined -%}
        {%- do return(relation.include(database=false)) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}

{% macro source() %}
    {%- set relation = builtins.source(*varargs, **kwargs) -%}
    {%- if relation is not none and relation.include is defined -%}
        {%- do return(relation.include(database=false)) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}
