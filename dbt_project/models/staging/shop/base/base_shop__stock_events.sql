with source as (
    select * from {{ shop_source('stock_events') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as stock_event_id,
        product_id,
        variant_id,
        kind,
        reason,
        -- amounts
        quantity,
        -- timestamps
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
