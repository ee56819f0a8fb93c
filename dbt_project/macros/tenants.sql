{#-
  The tenants whose resolved settings (time zone, currency, thresholds) changed, appeared or
  went since the previous build, as a subquery of tenant ids: stg_control__tenants' change log,
  when change logs are usable and this invocation's run of it wrote the log. Otherwise none,
  and a model compares its held rows with the settings instead (after a failed build, or when
  the model was created or rebuilt whole in this run).
-#}
{% macro tenants_with_new_settings() -%}
    {%- set tenants = ref('stg_control__tenants') -%}
    {%- if not change_log_usable() or not logged_by_this_invocation(tenants) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('(select distinct tenant_id from ' ~ change_log(tenants) ~ ')') }}
{%- endmacro %}
