with source as (
    select * from {{ shop_source('events') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as event_id,
        session_id,
        customer_id,
        product_id,
        order_id,
        type as event_type,
        properties,
        -- timestamps
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
