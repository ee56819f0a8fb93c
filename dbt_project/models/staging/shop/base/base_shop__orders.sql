with source as (
    select * from {{ shop_source('orders') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as order_id,
        order_number,
        customer_id,
        -- enums and payment
        status,
        payment_provider,
        payment_status,
        payment_reference,
        -- amounts
        currency,
        subtotal_minor,
        discount_minor,
        tax_minor,
        shipping_minor,
        total_minor,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
