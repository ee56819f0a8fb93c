{#- Null-safe equality, for joining on optional keys such as variant_id. -#}
{% macro equal_or_both_null(left, right) -%}
    ({{ left }} = {{ right }} or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}


{#- Null-safe equality the engine can still join on (a plain OR of comparisons it cannot). -#}
{% macro null_safe_equal(left, right) -%}
    {{ return(adapter.dispatch('null_safe_equal', 'shoplake')(left, right)) }}
{%- endmacro %}

{% macro default__null_safe_equal(left, right) -%}
    {{ equal_or_both_null(left, right) }}
{%- endmacro %}

{% macro duckdb__null_safe_equal(left, right) -%}
    {{ left }} is not distinct from {{ right }}
{%- endmacro %}
