{#-
  Incremental facts read only raw rows landed since their watermark, and apply them as changes.

  * The watermark is the newest `_ingested_at` already in the fact. Some rows before it are read
    again (`incremental_since`), because a batch's `_ingested_at` is stamped before its file
    becomes visible: a slow batch may appear after a faster, later one was built. Reading a row
    twice is harmless (the latest version of a key wins either way).
  * The filter is rendered as literals on the raw columns (the `date=` partition and the
    time-zoned _ingested_at_tz), so DuckDB skips older partitions by path and older batch files by
    their Parquet statistics: the cost of a run follows the new data, not the whole history.
  * Changed keys carry `is_deleted`; the `apply_changes` strategy deletes every changed key from
    the fact and inserts the rows that are not deletes. Latest-version-among-changes equals the
    latest version overall, so an incremental run ends where a full refresh does.
-#}

{#- A predicate on a base model: true for rows landed since the watermark (always in a full run). -#}
{% macro landed_since_watermark(ingested_at='_ingested_at_tz', ingested_date='_ingested_date') -%}
    {%- if not is_incremental() -%}
        1 = 1
    {%- else -%}
        {%- set found = run_query('select max(_ingested_at) from ' ~ this) -%}
        {%- set watermark = found.columns[0].values()[0] -%}
        {%- if watermark is none -%}
            1 = 1
        {%- else -%}
            {%- set since = incremental_since(watermark) -%}
            {{ ingested_date }} >= cast({{ dbt.string_literal(since.strftime('%Y-%m-%d')) }} as date)
            and {{ ingested_at }} > cast(
                {{ dbt.string_literal(since.strftime('%Y-%m-%d %H:%M:%S.%f+00:00')) }}
                as timestamp with time zone
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
  Where an incremental run starts reading, given its fact's watermark (a zone-less UTC
  datetime). The pipelines know which batches were still landing when the previous build looked
  (pipelines/lib/rereads.py) and say so in SHOPLAKE_REREAD_FROM:
    * `none`: nothing was, so every batch stamped up to the watermark has been read: read
      what landed after it;
    * an ISO 8601 instant: the oldest such batch's stamp; read from that instant on (itself
      included) when it is older than the watermark;
    * unset (a plain `dbt build`, or after a failed build): `incremental_lookback_minutes`.
  Read only while models run (`execute`), so a new value never makes dbt re-parse.
-#}
{% macro incremental_since(watermark) -%}
    {%- set reread = env_var('SHOPLAKE_REREAD_FROM', '') if execute else '' -%}
    {%- set tick = modules.datetime.timedelta(microseconds=1) -%}
    {%- if reread == 'none' -%}
        {{ return(watermark) }}
    {%- elif reread -%}
        {%- set pending = modules.datetime.datetime.fromisoformat(reread).astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
        {{ return([watermark, pending] | min - tick) }}
    {%- else -%}
        {{ return(watermark - modules.datetime.timedelta(minutes=var('incremental_lookback_minutes'))) }}
    {%- endif -%}
{%- endmacro %}


{#-
  A predicate on a raw source: true for rows landed at or before the build's raw watermark (an
  ISO 8601 instant the pipelines take before a build, in SHOPLAKE_RAW_WATERMARK, else
  var('raw_watermark')), so a build includes exactly the raw data its published snapshot says
  it does, however much lands meanwhile. Always true when unset. The environment variable is
  read only while models run, so a new watermark every build keeps dbt's partial parsing.
-#}
{% macro landed_by_raw_watermark() -%}
    {%- set watermark = (env_var('SHOPLAKE_RAW_WATERMARK', '') if execute else '') or var('raw_watermark') -%}
    {%- if not watermark -%}
        1 = 1
    {%- else -%}
        {%- set instant = modules.datetime.datetime.fromisoformat(watermark).astimezone(modules.pytz.utc) -%}
        {{ adapter.quote('date') }} <= cast({{ dbt.string_literal(instant.strftime('%Y-%m-%d')) }} as date)
        and _ingested_at <= cast(
            {{ dbt.string_literal(instant.strftime('%Y-%m-%d %H:%M:%S.%f+00:00')) }}
            as timestamp with time zone
        )
    {%- endif -%}
{%- endmacro %}


{#- The final select of an incremental fact: tombstones kept only while applying changes. -#}
{% macro emit_changes(relation) -%}
    {%- if is_incremental() -%}
        select * from {{ relation }}
    {%- else -%}
        select {{ star_except(relation, ['is_deleted']) }}
        from {{ relation }}
        where not is_deleted
    {%- endif -%}
{%- endmacro %}


{#-
  The rows a model recomputed and, in an incremental run, one tombstone for each key of
  `affected` that `kept` (by default the rows themselves) no longer holds: the key is gone, and
  apply_changes deletes its rows. `affected` may be a relation, read under `alias` and narrowed
  by `where`. Columns a tombstone lacks are null (`union all by name`).
-#}
{% macro with_tombstones(rows, affected, keys, kept=none, alias=none, where=none) -%}
    {%- set alias = alias or affected -%}
    select *, false as is_deleted
    from {{ rows }}
    {%- if is_incremental() %}

    union all by name

    select
        {%- for key in keys %}
        {{ alias }}.{{ key }},
        {%- endfor %}
        true as is_deleted
    from {{ affected }}{{ ' as ' ~ alias if alias is not sameas affected }}
    where not {{ key_among(keys, kept or rows, alias) }}
    {%- if where %}
        and {{ where }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}


{#- `*` without some columns of a relation or CTE. -#}
{% macro star_except(relation, columns) -%}
    {{ return(adapter.dispatch('star_except', 'shoplake')(relation, columns)) }}
{%- endmacro %}

{% macro duckdb__star_except(relation, columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}


{#-
  Strategy `apply_changes`: the new relation holds every changed key (unique_key) with its
  current rows, or one tombstone row (is_deleted) when the key is gone. Replace the key's rows.
  Keys compare null-safe (a stock SKU has no variant_id). Finding the rows to delete scans the
  whole table, so a run without changes (often: a ledger when only orders landed) skips it.

  A key whose recomputed rows equal the rows held for it, row for row, is left alone: models
  recompute more than changed (every order of a customer who ordered again, every product of a
  refunded order), and only what really changed goes on downstream, into the change log and
  the marker. The comparison reads the held rows of the offered keys once (`__held`).

  A model with `meta` `record_changes`, `publish` or `test_changed_keys` also leaves
  `<table>__changes`: the rows it replaced and the rows it inserted in its latest incremental
  run (empty when nothing changed), so a model built from it can recompute only what those rows
  touch (`change_log`), publish can read only the files they fall in, and its tests only the
  keys it changed (macros/tests/scope.sql).

  Every run also leaves `<table>__changed`: how many changed keys it applied, the dbt
  invocation that did, and whether it wrote the change log. Publish links a mart's previous
  files whole, without reading it, when this build's own run of it changed nothing, and reads
  only the files its log touched otherwise (warehouse/publish/touched.py).
-#}
{% macro get_incremental_apply_changes_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set offered = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set held = adapter.quote(offered.identifier ~ '__held') -%}
    {%- set differing = adapter.quote(offered.identifier ~ '__differing') -%}
    {%- set offered_keys = run_query('select count(*) from ' ~ offered).columns[0].values()[0] -%}
    {%- set changed = 0 -%}
    {%- if offered_keys > 0 -%}
        {%- call statement('compare_with_held') -%}
            create or replace temp table {{ held }} as
            select {{ columns }}
            from {{ target }}
            where {{ key_among(keys, offered, target) }};

            create or replace temp table {{ differing }} as
            select distinct {{ keys | join(', ') }}
            from (
                (
                    select {{ columns }} from {{ offered }} where not is_deleted
                    except all
                    select {{ columns }} from {{ held }}
                )
                union all
                (
                    select {{ columns }} from {{ held }}
                    except all
                    select {{ columns }} from {{ offered }} where not is_deleted
                )
            );
        {%- endcall -%}
        {%- set changed = run_query('select count(*) from ' ~ differing).columns[0].values()[0] -%}
    {%- endif -%}
    {%- set meta = config.get('meta', {}) -%}
    {%- set logged = meta.get('record_changes') or meta.get('publish') or meta.get('test_changed_keys') %}
    create or replace table {{ changed_marker(target) }} as
    select {{ changed }} as changed_keys, '{{ invocation_id }}' as invocation_id,
        {{ 'true' if logged else 'false' }} as change_logged;
    {%- if logged %}
    create or replace table {{ change_log(target) }} as
    {%- if changed == 0 %}
    select {{ columns }} from {{ target }} where false;
    {%- else %}
    select {{ columns }} from {{ held }} where {{ key_among(keys, differing, held) }}
    union all
    select {{ columns }} from {{ offered }}
    where not is_deleted and {{ key_among(keys, differing, offered) }};
    {%- endif %}
    {% endif -%}
    {%- if changed == 0 -%}
    select 0 as nothing_changed
    {%- else -%}
    delete from {{ target }}
    where {{ key_among(keys, differing, target) }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ offered }}
    where not is_deleted and {{ key_among(keys, differing, offered) }}
    {%- endif -%}
    {%- if offered_keys > 0 -%}
    ;
    drop table if exists {{ held }};
    drop table if exists {{ differing }}
    {%- endif -%}
{%- endmacro %}


{#- What an apply_changes model's latest incremental run changed, beside the model. -#}
{% macro changed_marker(relation) -%}
    {{ return(api.Relation.create(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier ~ '__changed',
    )) }}
{%- endmacro %}


{#-
  Whether this dbt invocation's run of `relation` wrote its change log (its marker says so): not
  when the model was created or rebuilt whole in this run, which the strategy does not see.
-#}
{% macro logged_by_this_invocation(relation) -%}
    {%- set marker = changed_marker(relation) -%}
    {#- Not adapter.get_relation: its cache does not know tables the strategy made this run. -#}
    {%- set exists = run_query(
        'select 1 from information_schema.tables where table_catalog = '
        ~ dbt.string_literal(marker.database) ~ ' and table_schema = '
        ~ dbt.string_literal(marker.schema) ~ ' and table_name = '
        ~ dbt.string_literal(marker.identifier)) -%}
    {%- if exists.rows | length == 0 -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set found = run_query('select * from ' ~ marker) -%}
    {%- if 'change_logged' not in found.column_names or found.rows | length != 1 -%}
        {%- do return(false) -%}  {#- an older marker, from before runs logged their changes -#}
    {%- endif -%}
    {%- set row = found.rows[0] -%}
    {%- do return(row['invocation_id'] == invocation_id and row['change_logged']) -%}
{%- endmacro %}


{#- The change log a `record_changes` model leaves beside itself. -#}
{% macro change_log(relation) -%}
    {{ return(api.Relation.create(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier ~ '__changes',
    )) }}
{%- endmacro %}


{#-
  Whether a model may recompute only what its input's change log touches: only in an incremental
  run of a pipelines build that follows a completed one (SHOPLAKE_REREAD_FROM set). After a
  failed build the log holds only the latest run's changes, so the model recomputes everything.
-#}
{% macro change_log_usable() -%}
    {{ return(is_incremental() and execute and env_var('SHOPLAKE_REREAD_FROM', '') != '') }}
{%- endmacro %}
