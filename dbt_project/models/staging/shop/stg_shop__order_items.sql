-- An order's lines are those landed in the same batch as its current version: an update that
-- drops a line drops it here, and a deleted order has no lines.
with lines as (
    select * from {{ ref('base_shop__order_items') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

current_lines as (
    select lines.*
    from lines
    inner join orders
        on lines.tenant_id = orders.tenant_id
        and lines.order_id = orders.order_id
        and lines._batch_id = orders._batch_id
),

-- The same order sent twice in one batch lands its lines twice; keep the later copy.
deduplicated as (
    {{ latest_version('current_lines', ['tenant_id', 'order_id', 'line_number']) }}
),

final as (
    select
        tenant_id,
        order_id,
        line_number,
        product_id,
        variant_id,
        sku,
        item_name,
        currency,
        quantity,
        unit_price_minor,
        discount_minor,
        order_created_at,
        _batch_id,
        _ingested_at
    from deduplicated
)

select * from final
