{#- Message direction: 'inbound' / 'outbound' whatever the casing or the short form (in/out,
    incoming/outgoing); any other value is kept, trimmed and lower-cased; empty -> null. -#}
{% macro normalize_direction(expr) -%}
    case
        when lower(trim({{ expr }})) in ('inbound', 'in', 'incoming', 'received') then 'inbound'
        when lower(trim({{ expr }})) in ('outbound', 'out', 'outgoing', 'sent') then 'outbound'
        else nullif(lower(trim({{ expr }})), '')
    end
{%- endmacro %}
