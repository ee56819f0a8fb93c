with source as (
    select * from {{ shop_source('payments') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as payment_id,
        order_id,
        provider,
        status,
        provider_status,
        failure_code,
        -- amounts
        currency,
        amount_minor,
        amount_captured_minor,
        amount_refunded_minor,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
