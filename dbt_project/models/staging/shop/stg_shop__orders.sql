with versions as (
    select * from {{ ref('base_shop__orders') }}
),

current_versions as (
    {{ latest_version('versions', ['tenant_id', 'order_id']) }}
),

final as (
    select
        tenant_id,
        order_id,
        order_number,
        customer_id,
        status,
        payment_provider,
        payment_status,
        payment_reference,
        currency,
        subtotal_minor,
        discount_minor,
        tax_minor,
        shipping_minor,
        total_minor,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at
    from current_versions
    where not is_deleted
)

select * from final
