{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'payment_id'],
) }}

-- Payments come from the payment object on orders for now (payment_source 'order'); payment
-- webhooks will add rows of their own source. An order without payment details, or deleted,
-- leaves a tombstone so a payment it used to carry disappears.
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
        {{ dbt.concat(["'order:'", 'order_id']) }} as payment_id,
        order_id,
        'order' as payment_source,
        payment_provider as provider,
        payment_status as status,
        payment_reference as reference,
        -- amounts
        currency,
        total_minor as amount_minor,
        -- timestamps
        created_at,
        updated_at,
        -- lineage
        _batch_id,
        _ingested_at,
        is_deleted
            or (payment_provider is null and payment_status is null and payment_reference is null)
            as is_deleted
    from changed_orders
)

{{ emit_changes('final') }}
