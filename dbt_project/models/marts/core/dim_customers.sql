with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

notes as (
    select
        tenant_id,
        customer_id,
        count(*) as note_count,
        max(created_at) as last_note_at
    from {{ ref('stg_shop__customer_notes') }}
    group by tenant_id, customer_id
),

final as (
    select
        -- ids
        customers.tenant_id,
        customers.customer_id,
        customers.email,
        customers.first_name,
        customers.last_name,
        customers.phone,
        customers.address_line1,
        customers.address_line2,
        customers.address_city,
        customers.address_region,
        customers.address_postal_code,
        customers.address_country,
        customers.tags,
        coalesce(notes.note_count, 0) as note_count,
        -- flags
        customers.accepts_email_marketing,
        customers.accepts_sms_marketing,
        -- timestamps
        customers.created_at,
        customers.updated_at,
        notes.last_note_at
    from customers
    left join notes
        on customers.tenant_id = notes.tenant_id
        and customers.customer_id = notes.customer_id
)

select * from final
