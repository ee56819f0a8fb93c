with source as (
    select * from {{ shop_source('order_items') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        order_id,
        line_number,
        product_id,
        variant_id,
        sku,
        name as item_name,
        -- amounts
        currency,
        quantity,
        unit_price_minor,
        discount_minor,
        -- timestamps
        {{ to_utc_timestamp('order_created_at') }} as order_created_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
