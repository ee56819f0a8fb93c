with source as (
    select * from {{ shop_source('price_events') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as price_event_id,
        product_id,
        variant_id,
        -- amounts
        currency,
        price_minor,
        -- timestamps
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
