{#-
  Time zones. Staging stores every timestamp as a zone-less UTC timestamp (the portable shape);
  tenant-local wall time is derived only in marts, per row, from the tenant's IANA zone.
-#}

{#- A UTC instant (timestamp with time zone) as a zone-less UTC timestamp. -#}
{% macro to_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'shoplake')(expression)) }}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expression) -%}
    timezone('UTC', {{ expression }})
{%- endmacro %}


{#- A zone-less UTC timestamp as wall-clock time in the IANA zone held by `timezone_expression`. -#}
{% macro to_local_timestamp(utc_expression, timezone_expression) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'shoplake')(utc_expression, timezone_expression)) }}
{%- endmacro %}

{% macro duckdb__to_local_timestamp(utc_expression, timezone_expression) -%}
    timezone({{ timezone_expression }}, timezone('UTC', {{ utc_expression }}))
{%- endmacro %}
