with source as (
    select * from {{ shop_source('customer_notes') }}
    where {{ landed_by_raw_watermark() }}
),

renamed as (
    select
        -- ids
        tenant_id,
        id as note_id,
        customer_id,
        author,
        body,
        -- timestamps
        {{ to_utc_timestamp('created_at') }} as created_at,
        -- landing metadata
        {{ landing_metadata() }}
    from source
)

select * from renamed
