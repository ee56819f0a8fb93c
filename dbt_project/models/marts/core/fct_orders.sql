{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'order_id'],
) }}

with order_versions as (
    select * from {{ ref('base_shop__orders') }}
    where {{ landed_since_watermark() }}
),

changed_orders as (
    {{ latest_version('order_versions', ['tenant_id', 'order_id']) }}
),

final as (
    select
        -- ids
        tenant_id,
        order_id,
        order_number,
        customer_id,
        status,
        -- amounts
        currency,
        subtotal_minor,
        discount_minor,
        tax_minor,
        shipping_minor,
        total_minor,
        -- flags
        status in ('paid', 'fulfilled', 'refunded', 'partially_refunded') as is_paid,
        customer_id is null as is_guest,
        -- timestamps
        created_at,
        updated_at,
        -- lineage: the raw version this row is, and the watermark of the next run
        _batch_id,
        _ingested_at,
        is_deleted
    from changed_orders
)

{{ emit_changes('final') }}
