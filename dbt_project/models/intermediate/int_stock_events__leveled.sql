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

-- A SKU's events in order, in one sort: the deltas so far at each event, and whether it is the
-- last one. A count (`set`) notes its quantity and the deltas so far at it.
running as (
    select
        *,
        sum(case when kind = 'delta' then quantity else 0 end) over through_event as deltas_so_far,
        lead(stock_event_id) over through_event is null as is_latest
    from stock_events
    window through_event as (
        partition by tenant_id, product_id, variant_id
        order by occurred_at, stock_event_id
        rows between unbounded preceding and current row
    )
),

counts_noted as (
    select
        *,
        case when kind = 'set' then quantity end as count_quantity,
        case when kind = 'set' then deltas_so_far end as count_deltas_so_far
    from running
),

-- The latest count up to an event, and up to the event before it: both windows share one
-- order, so this is the second and last sort (the count segments this replaced took four).
last_counts as (
    select
        *,
        last_value(count_quantity ignore nulls) over through_event as count_through,
        last_value(count_deltas_so_far ignore nulls) over through_event as count_deltas_through,
        last_value(count_quantity ignore nulls) over before_event as count_before,
        last_value(count_deltas_so_far ignore nulls) over before_event as count_deltas_before,
        lag(deltas_so_far) over through_event as deltas_before
    from counts_noted
    window
        through_event as (
            partition by tenant_id, product_id, variant_id
            order by occurred_at, stock_event_id
            rows between unbounded preceding and current row
        ),
        before_event as (
            partition by tenant_id, product_id, variant_id
            order by occurred_at, stock_event_id
            rows between unbounded preceding and 1 preceding
        )
),

-- A level is the latest count plus the deltas since it (0 plus every delta before the first).
leveled as (
    select
        *,
        cast(
            coalesce(count_through, 0) + deltas_so_far - coalesce(count_deltas_through, 0)
            as {{ dbt.type_bigint() }}
        ) as level_after,
        cast(
            coalesce(count_before, 0) + coalesce(deltas_before, 0) - coalesce(count_deltas_before, 0)
            as {{ dbt.type_bigint() }}
        ) as level_before
    from last_counts
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
        level_before,
        level_after,
        -- ordering
        is_latest,
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
