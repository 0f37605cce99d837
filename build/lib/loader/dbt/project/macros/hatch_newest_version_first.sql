{#- The order that ranks a Hatch record's versions newest first: the later `updated_at`, then the
    later export (end date), then the later load, file and record. A value beats null. -#}
{% macro hatch_newest_version_first() -%}
    updated_at desc nulls last,
    _export_end_date desc nulls last,
    _loaded_at desc,
    _file_name desc,
    _record_number desc
{%- endmacro %}
