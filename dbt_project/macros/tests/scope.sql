{#-
  How much data tests read. A full-refresh build, a scheduled build, or a plain `dbt build` tests
  everything. An incremental build started by the pipelines after a completed build keeps its
  tests proportional to the data that changed:

  * it leaves out the tests tagged `whole_table` (`--exclude tag:whole_table`): tests of
    staging views and relationships to them, which re-run the view's whole query over the raw
    zone, and singular tests and reconciliations that add up whole marts;
  * tests of incremental models (with an `_ingested_at` column) read only the rows this build
    wrote: `_ingested_at` after SHOPLAKE_TESTS_SINCE (the previous build's raw watermark). The
    apply_changes strategy replaces a key's rows whole, so old rows cannot clash with new ones.
    Rows an incremental model rewrites without a new version (fct_orders whose money moved)
    are checked by the next whole test run.

  Tables rebuilt by every build are tested whole: the test costs a fraction of the build.
-#}

{#- dbt's hook for a test's `where` config: add the scope of this build's rows. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set since = rows_written_since(relation) -%}
    {%- if since -%}
        {%- do conditions.append(since) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#- `_ingested_at > <SHOPLAKE_TESTS_SINCE>` for an incremental model with it, else nothing. -#}
{% macro rows_written_since(relation) -%}
    {%- set since = env_var('SHOPLAKE_TESTS_SINCE', '') if execute else '' -%}
    {%- if not since or not is_incremental_model(relation) -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set instant = modules.datetime.datetime.fromisoformat(since).astimezone(modules.pytz.utc) -%}
    {%- set literal = dbt.string_literal(instant.strftime('%Y-%m-%d %H:%M:%S.%f')) -%}
    {%- do return('_ingested_at > cast(' ~ literal ~ ' as ' ~ dbt.type_timestamp() ~ ')') -%}
{%- endmacro %}


{#-
  Whether `relation` is an incremental model of this project whose rows carry `_ingested_at`.
  An incremental model without it (`meta.test_all_rows`: the orders and sales recomputed by
  customer or day from change logs) is tested whole.
-#}
{% macro is_incremental_model(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
            {%- do return(node.config.materialized == 'incremental'
                and not node.config.meta.get('test_all_rows')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(false) -%}
{%- endmacro %}
