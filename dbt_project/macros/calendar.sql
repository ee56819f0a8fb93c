{#-
  The reference day of a build, in each tenant's own calendar: `var('as_of_date')` when set
  (tests and backfills pin it), else the local date of the moment the dbt run started. One
  instant per run, so every mart of a build agrees on "today".
-#}
{% macro as_of_date(timezone_expression) -%}
    {%- if var('as_of_date') -%}
        cast({{ dbt.string_literal(var('as_of_date')) }} as date)
    {%- else -%}
        {%- set started = "cast(" ~ dbt.string_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) ~ " as " ~ dbt.type_timestamp() ~ ")" -%}
        cast({{ to_local_timestamp(started, timezone_expression) }} as date)
    {%- endif -%}
{%- endmacro %}


{#- The tenant-local calendar day of a zone-less UTC timestamp. -#}
{% macro local_date(utc_expression, timezone_expression) -%}
    cast({{ to_local_timestamp(utc_expression, timezone_expression) }} as date)
{%- endmacro %}
