{#-
  Models go to the schema their folder names (staging, intermediate, marts) rather than dbt's
  default "<target schema>_<custom schema>", so analysts and the publish step find marts in
  `marts` whatever the target is called.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{- (custom_schema_name or target.schema) | trim -}}
{%- endmacro %}
