with versions as (
    select * from {{ ref('base_shop__customers') }}
),

current_versions as (
    {{ latest_version('versions', ['tenant_id', 'customer_id']) }}
),

final as (
    select
        tenant_id,
        customer_id,
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
        accepts_email_marketing,
        accepts_sms_marketing,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at
    from current_versions
    where not is_deleted
)

select * from final
