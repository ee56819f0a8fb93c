with source as (
    select * from {{ shop_source('customers') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as customer_id,
        email,
        first_name,
        last_name,
        phone,
        address_line1,
        address_line2,
        address_city,
        address_region,
        address_postal_code,
        address_country,
        tags,
        -- flags
        accepts_email_marketing,
        accepts_sms_marketing,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
