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


{#-
  `exists` a row of `keys_relation` whose `keys` equal those of `row` (null-safe): a semi-join
  the engine runs with the (smaller) keys relation as the side to hash.
-#}
{% macro key_among(keys, keys_relation, row) -%}
    exists (
        select 1
        from {{ keys_relation }} as candidate
        where
        {%- for key in keys %}
            {{ null_safe_equal('candidate.' ~ key, row ~ '.' ~ key) }}{{ ' and' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
