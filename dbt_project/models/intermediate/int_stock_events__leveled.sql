{{ config(materialized='table') }}

-- A table, not a view: two marts read it, and its running sums sort every stock event.
-- Each stock event with the SKU's level before and after it. Events of a SKU (product and
-- variant) apply in (occurred_at, stock_event_id) order: a `set` is a stock count and replaces the
-- level, a `delta` adds to it; the level before a SKU's first count is 0.
with stock_events as (
    select * from {{ ref('stg_shop__stock_events') }}
),

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

final as (
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
        occurred_at
    from leveled
)

select * from final
