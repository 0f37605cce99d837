{#- dbt's documented hook for the `where` config of data tests, for one placeholder. A column test
    configured with `where: "__latest_build__"` reads the rows of the keys that the model's latest
    build wrote (`_built_at`, see build_timestamp), old rows and new: an incremental build's tests
    check what it changed against the whole table without reading every row; after a full build
    every row has the newest `_built_at`, so they read the whole table. Any other `where` works as
    in dbt. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__latest_build__' in where -%}
        {%- set key = model.column_name -%}
        {%- if not key -%}
            {{ exceptions.raise_compiler_error("`where: __latest_build__` needs a column test: " ~ model.name) }}
        {%- endif -%}
        {%- set latest_keys -%}
            {{ key }} in (
                select {{ key }} from {{ relation }}
                where _built_at = (select max(_built_at) from {{ relation }})
            )
        {%- endset -%}
        {%- set where = where | replace('__latest_build__', latest_keys) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
