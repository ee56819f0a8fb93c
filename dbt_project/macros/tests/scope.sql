{#-
  How much data tests read. A full-refresh build, a scheduled build, or a plain `dbt build` tests
  everything. An incremental build started by the pipelines after a completed build keeps its
  tests proportional to the data that changed:

  * it leaves out the tests tagged `whole_table` (`--exclude tag:whole_table`): tests of
    staging views and relationships to them, which re-run the view's whole query over the raw
    zone, and singular tests and reconciliations that add up whole marts;
  * tests of incremental models with an `_ingested_at` column read only the rows this build
    wrote: `_ingested_at` after SHOPLAKE_TESTS_SINCE (the previous build's raw watermark). The
    apply_changes strategy replaces a key's rows whole, so old rows cannot clash with new ones.
    Rows an incremental model rewrites without a new version (fct_orders whose money moved)
    are checked by the next whole test run;
  * tests of incremental models recomputed by key without `_ingested_at`
    (`meta.test_changed_keys`: orders by customer, sales by day, stock levels by product) read
    the rows of the keys this build's run changed, which their change log names.

  Tables rebuilt by every build are tested whole: the test costs a fraction of the build.
-#}

{#- dbt's hook for a test's `where` config: add the scope of this build's rows. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = rows_this_build_wrote(relation, 'scoped_rows') -%}
    {%- if scope -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' as scoped_rows where ' ~ conditions | join(' and ') ~ ') as dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{#-
  A condition on `row` (a row of `relation`) true for the rows this build wrote, or nothing when
  the whole relation is to be tested: not a scoped build, or not an incremental model.
-#}
{% macro rows_this_build_wrote(relation, row) -%}
    {%- set since = env_var('SHOPLAKE_TESTS_SINCE', '') if execute else '' -%}
    {%- set node = model_node(relation) if since else none -%}  {#- no graph while parsing -#}
    {%- if node is none or node.config.materialized != 'incremental' -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if node.config.meta.get('test_changed_keys') -%}
        {%- if not logged_by_this_invocation(relation) -%}
            {%- do return(none) -%}
        {%- endif -%}
        {%- set keys = node.config.unique_key -%}
        {%- do return(key_among([keys] if keys is string else keys, change_log(relation), row)) -%}
    {%- endif -%}
    {%- set instant = modules.datetime.datetime.fromisoformat(since).astimezone(modules.pytz.utc) -%}
    {%- set literal = dbt.string_literal(instant.strftime('%Y-%m-%d %H:%M:%S.%f')) -%}
    {%- do return(row ~ '._ingested_at > cast(' ~ literal ~ ' as ' ~ dbt.type_timestamp() ~ ')') -%}
{%- endmacro %}


{#- The graph node of the model of this project that `relation` is, or none. -#}
{% macro model_node(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
            {%- do return(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}
