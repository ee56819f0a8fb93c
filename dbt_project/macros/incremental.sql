{#-
  Incremental facts read only raw rows landed since their watermark, and apply them as changes.

  * The watermark is the newest `_ingested_at` already in the fact. Rows landed up to
    `incremental_lookback_minutes` before it are read again, because a batch's `_ingested_at` is
    stamped before its file becomes visible: a slow batch may appear after a faster, later one
    was built. Reading a row twice is harmless (the latest version of a key wins either way).
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
            {%- set since = watermark - modules.datetime.timedelta(minutes=var('incremental_lookback_minutes')) -%}
            {{ ingested_date }} >= cast({{ dbt.string_literal(since.strftime('%Y-%m-%d')) }} as date)
            and {{ ingested_at }} > cast(
                {{ dbt.string_literal(since.strftime('%Y-%m-%d %H:%M:%S.%f+00:00')) }}
                as timestamp with time zone
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
  A predicate on a raw source: true for rows landed at or before var('raw_watermark') (an ISO
  8601 instant the pipelines take before a build), so a build includes exactly the raw data its
  published snapshot says it does, however much lands meanwhile. Always true when unset.
-#}
{% macro landed_by_raw_watermark() -%}
    {%- set watermark = var('raw_watermark') -%}
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
-#}
{% macro get_incremental_apply_changes_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set changes = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where exists (
        select 1
        from {{ changes }} as changes
        where
        {%- for key in keys %}
            changes.{{ key }} = {{ target }}.{{ key }}{{ ' and' if not loop.last }}
        {%- endfor %}
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ changes }}
    where not is_deleted
{%- endmacro %}
