{#- The columns a model's contract declares `not_null` hold no null. The data test for table
    formats that keep no constraints (Spark on Parquet; enabled there only): DuckDB enforces
    them as the table is written. -#}
{% test not_null_constraints(model) %}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.alias == model.identifier -%}
            {%- for column in node.columns.values() -%}
                {%- if 'not_null' in (column.constraints | map(attribute='type') | list) -%}
                    {%- do columns.append(column.name) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif %}
    select *
    from {{ model }}
    where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% else %}false{% endfor %}
{% endtest %}
