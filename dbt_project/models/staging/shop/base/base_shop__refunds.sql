with source as (
    select * from {{ shop_source('refunds') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as refund_id,
        order_id,
        reason,
        status,
        -- amounts
        currency,
        amount_minor,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
