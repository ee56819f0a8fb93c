-- Refunds that count against sales: succeeded, of an order that counts in sales, placed in the
-- tenant's calendar on the day (and hour) the money went back.
with refunds as (
    select * from {{ ref('fct_refunds') }}
),

orders as (
    select * from {{ ref('int_orders__localized') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

final as (
    select
        -- ids
        refunds.tenant_id,
        refunds.refund_id,
        refunds.order_id,
        -- amounts
        refunds.amount_minor,
        -- timestamps
        refunds.created_at,
        {{ to_local_timestamp('refunds.created_at', 'tenants.timezone') }} as created_local_at,
        {{ local_date('refunds.created_at', 'tenants.timezone') }} as created_date
    from refunds
    inner join orders
        on refunds.tenant_id = orders.tenant_id
        and refunds.order_id = orders.order_id
    inner join tenants
        on refunds.tenant_id = tenants.tenant_id
    where refunds.is_succeeded
        and orders.counts_in_sales
)

select * from final
