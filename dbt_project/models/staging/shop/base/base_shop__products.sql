with source as (
    select * from {{ shop_source('products') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as product_id,
        sku,
        name as product_name,
        description,
        category,
        subcategory,
        tags,
        meta_title,
        meta_description,
        variants,
        -- amounts
        currency,
        price_minor,
        cost_minor,
        stock_quantity,
        min_stock_level,
        -- flags
        is_active,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
