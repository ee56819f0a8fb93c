{#- The text of a top-level key of a JSON object held as text (NULL when absent or null). -#}
{% macro json_text(json_expression, key) -%}
    {{ return(adapter.dispatch('json_text', 'shoplake')(json_expression, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(json_expression, key) -%}
    json_extract_string({{ json_expression }}, {{ dbt.string_literal('$.' ~ key) }})
{%- endmacro %}
