{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id', 'variant_id'],
    meta={'record_changes': true},
) }}

-- A table, not a view: two marts read it, and its running sums sort every stock event.
-- Each stock event with the SKU's level before and after it. Events of a SKU (product and
-- variant) apply in (occurred_at, stock_event_id) order: a `set` is a stock count and replaces the
-- level, a `delta` adds to it; the level before a SKU's first count is 0.
-- Incremental by SKU (an event moves every later level of its SKU): the SKUs the stock events
-- changed in this build touch (stg_shop__stock_events__changes, old and new rows) are
-- recomputed whole, and a SKU left without events leaves a tombstone. Its own changes are
-- recorded for mart_stock_movements.
with all_stock_events as (
    select * from {{ ref('stg_shop__stock_events') }}
),

{% if change_log_usable() -%}
affected_skus as (
    select distinct tenant_id, product_id, variant_id
    from {{ change_log(ref('stg_shop__stock_events')) }}
),

-- `exists` rather than a join: the affected set is the side to hash (none: no scan at all).
stock_events as (
    select all_stock_events.*
    from all_stock_events
    where {{ key_among(['tenant_id', 'product_id', 'variant_id'], 'affected_skus', 'all_stock_events') }}
),
{%- elif is_incremental() -%}
-- After a failed build the change log is incomplete: every SKU, held or current.
affected_skus as (
    select tenant_id, product_id, variant_id from all_stock_events
    union
    select tenant_id, product_id, variant_id from {{ this }}
),

stock_events as (
    select * from all_stock_events
),
{%- else -%}
stock_events as (
    select * from all_stock_events
),
{%- endif %}

segmented as (
    select
        *,
        -- Each count starts a segment; the level is that count plus the segment's deltas.
        sum(case when kind = 'set' then 1 else 0 end) over (
            partition by tenant_id, product_id, variant_id
            order by occurred_at, stock_event_id
            rows between unbounded preceding and current row
        ) as count_segment
    from stock_events
),

leveled as (
    select
        *,
        cast(
            coalesce(max(case when kind = 'set' then quantity end) over (
                partition by tenant_id, product_id, variant_id, count_segment
            ), 0)
            + sum(case when kind = 'delta' then quantity else 0 end) over (
                partition by tenant_id, product_id, variant_id, count_segment
                order by occurred_at, stock_event_id
                rows between unbounded preceding and current row
            )
            as {{ dbt.type_bigint() }}
        ) as level_after
    from segmented
),

sequenced as (
    select
        -- ids
        tenant_id,
        stock_event_id,
        product_id,
        variant_id,
        kind,
        reason,
        -- quantities
        quantity,
        coalesce(lag(level_after) over (
            partition by tenant_id, product_id, variant_id
            order by occurred_at, stock_event_id
        ), 0) as level_before,
        level_after,
        -- ordering
        row_number() over (
            partition by tenant_id, product_id, variant_id
            order by occurred_at desc, stock_event_id desc
        ) = 1 as is_latest,
        -- timestamps
        occurred_at,
        -- lineage
        _ingested_at
    from leveled
),

-- Tombstones for SKUs no stock event names any more.
final as (
    {{ with_tombstones(
        'sequenced', 'affected_skus', ['tenant_id', 'product_id', 'variant_id'], kept='stock_events',
    ) }}
)

{{ emit_changes('final') }}
