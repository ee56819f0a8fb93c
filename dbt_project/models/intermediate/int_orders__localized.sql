{{ config(materialized='table') }}

-- A table, not a view: seven marts and their tests read it, and it joins every order line.
-- Orders in their tenant's calendar, with the per-order sums every sales and customer mart
-- needs. `counts_in_sales`: paid, and in the tenant's reporting currency (marts never add up
-- amounts of two currencies).
with orders as (
    select * from {{ ref('fct_orders') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

line_totals as (
    select
        tenant_id,
        order_id,
        {{ int_sum('quantity') }} as units,
        {{ int_sum('line_gross_minor') }} as gross_minor,
        {{ int_sum('discount_minor') }} as line_discount_minor
    from {{ ref('fct_order_items') }}
    group by tenant_id, order_id
),

localized as (
    select
        -- ids
        orders.tenant_id,
        orders.order_id,
        orders.customer_id,
        orders.status,
        -- amounts
        orders.currency,
        coalesce(line_totals.units, 0) as units,
        coalesce(line_totals.gross_minor, 0) as gross_minor,
        coalesce(line_totals.line_discount_minor, 0) + orders.discount_minor as discounts_minor,
        orders.tax_minor,
        orders.shipping_minor,
        orders.total_minor,
        orders.amount_refunded_minor as refunded_minor,
        -- flags
        orders.is_paid and orders.currency = tenants.currency as counts_in_sales,
        orders.total_minor >= tenants.high_value_order_minor as is_high_value,
        -- timestamps
        orders.created_at,
        {{ to_local_timestamp('orders.created_at', 'tenants.timezone') }} as created_local_at,
        {{ local_date('orders.created_at', 'tenants.timezone') }} as created_date
    from orders
    inner join tenants
        on orders.tenant_id = tenants.tenant_id
    left join line_totals
        on orders.tenant_id = line_totals.tenant_id
        and orders.order_id = line_totals.order_id
),

-- A customer's first counted order makes them "new" in that day's and hour's sales.
first_orders as (
    select
        tenant_id,
        order_id,
        row_number() over (
            partition by tenant_id, customer_id
            order by created_at, order_id
        ) = 1 as is_first_order
    from localized
    where counts_in_sales
        and customer_id is not null
),

final as (
    select
        localized.*,
        coalesce(first_orders.is_first_order, false) as is_first_order
    from localized
    left join first_orders
        on localized.tenant_id = first_orders.tenant_id
        and localized.order_id = first_orders.order_id
)

select * from final
