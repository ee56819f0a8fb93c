{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'order_id'],
) }}

-- The unit of change is the order: its lines are replaced by those landed in the same batch as
-- its current version, and a deleted order leaves one tombstone that removes all its lines.
with order_versions as (
    select * from {{ ref('base_shop__orders') }}
    where {{ landed_since_watermark() }}
),

line_versions as (
    select * from {{ ref('base_shop__order_items') }}
    where {{ landed_since_watermark() }}
),

changed_orders as (
    {{ latest_version('order_versions', ['tenant_id', 'order_id']) }}
),

current_lines as (
    select
        lines.*
    from changed_orders as orders
    inner join line_versions as lines
        on orders.tenant_id = lines.tenant_id
        and orders.order_id = lines.order_id
        and orders._batch_id = lines._batch_id
    where not orders.is_deleted
),

-- The same order sent twice in one batch lands its lines twice; keep the later copy.
deduplicated_lines as (
    {{ latest_version('current_lines', ['tenant_id', 'order_id', 'line_number']) }}
),

lines_and_tombstones as (
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
        _ingested_at,
        false as is_deleted
    from deduplicated_lines

    union all

    select
        tenant_id,
        order_id,
        null as line_number,
        null as product_id,
        null as variant_id,
        null as sku,
        null as item_name,
        null as currency,
        null as quantity,
        null as unit_price_minor,
        null as discount_minor,
        null as order_created_at,
        _batch_id,
        _ingested_at,
        true as is_deleted
    from changed_orders
    where is_deleted
),

final as (
    select
        -- ids
        tenant_id,
        order_id,
        line_number,
        product_id,
        variant_id,
        sku,
        item_name,
        -- amounts
        currency,
        quantity,
        unit_price_minor,
        quantity * unit_price_minor as line_gross_minor,
        discount_minor,
        quantity * unit_price_minor - discount_minor as line_net_minor,
        -- timestamps
        order_created_at,
        -- lineage
        _batch_id,
        _ingested_at,
        is_deleted
    from lines_and_tombstones
)

{{ emit_changes('final') }}
