{#-
  An aggregate: `value` in the group's first (or last) row by `order_columns`, which must not tie.
  One pass over the group, where a row number per direction would sort it once each.
-#}
{% macro value_at_first(value, order_columns) -%}
    {{ return(adapter.dispatch('value_at_first', 'shoplake')(value, order_columns)) }}
{%- endmacro %}

{% macro value_at_last(value, order_columns) -%}
    {{ return(adapter.dispatch('value_at_last', 'shoplake')(value, order_columns)) }}
{%- endmacro %}

{% macro default__value_at_first(value, order_columns) -%}
    (array_agg({{ value }} order by {{ order_columns | join(', ') }}))[1]
{%- endmacro %}

{% macro default__value_at_last(value, order_columns) -%}
    (array_agg({{ value }} order by {{ order_columns | join(' desc, ') }} desc))[1]
{%- endmacro %}

{% macro duckdb__value_at_first(value, order_columns) -%}
    arg_min_null({{ value }}, ({{ order_columns | join(', ') }}))
{%- endmacro %}

{% macro duckdb__value_at_last(value, order_columns) -%}
    arg_max_null({{ value }}, ({{ order_columns | join(', ') }}))
{%- endmacro %}
