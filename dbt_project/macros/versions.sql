{#-
  Raw rows are immutable versions. Every base model carries the same landing metadata, and the
  current state of a business key is its latest version: highest _ingested_at, then _batch_id,
  then _seq (row order within a batch). A retried batch that landed again, or the same record
  sent twice, is just another version of the key, so it collapses here too.
-#}

{#- The landing columns every base model exposes, from a raw-zone relation. -#}
{% macro landing_metadata() -%}
    _batch_id,
        _ingested_at as _ingested_at_tz,
        {{ to_utc_timestamp('_ingested_at') }} as _ingested_at,
        {{ adapter.quote('date') }} as _ingested_date,
        _seq,
        _source,
        _op = 'delete' as is_deleted
{%- endmacro %}


{#- Rows of `relation` that are the latest version of their key (deletes still included). -#}
{% macro latest_version(relation, key_columns) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _ingested_at desc, _batch_id desc, _seq desc
            ) as version_rank
        from {{ relation }}
    ) as ranked
    where version_rank = 1
{%- endmacro %}
