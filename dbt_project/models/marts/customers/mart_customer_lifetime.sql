-- Every known customer with their whole order history (orders that count in sales, summed up
-- per customer in int_customer_orders). Lifetime value is what they paid net of refunds; flags
-- compare against the tenant's thresholds on the as-of day.
with customers as (
    select * from {{ ref('dim_customers') }}
),

tenants as (
    select
        *,
        {{ as_of_date('timezone') }} as as_of_date
    from {{ ref('stg_control__tenants') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders') }}
),

measured as (
    select
        customers.tenant_id,
        customers.customer_id,
        customers.email,
        tenants.currency,
        tenants.as_of_date,
        tenants.vip_lifetime_value_minor,
        tenants.new_customer_days,
        tenants.inactive_customer_days,
        coalesce(customer_orders.order_count, 0) as order_count,
        coalesce(customer_orders.gross_spend_minor, 0) as gross_spend_minor,
        coalesce(customer_orders.refunded_minor, 0) as refunded_minor,
        customer_orders.first_order_at,
        customer_orders.last_order_at,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        {{ dbt.datediff('customer_orders.first_order_date', 'tenants.as_of_date', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('customer_orders.last_order_date', 'tenants.as_of_date', 'day') }}
            as days_since_last_order
    from customers
    inner join tenants
        on customers.tenant_id = tenants.tenant_id
    left join customer_orders
        on customers.tenant_id = customer_orders.tenant_id
        and customers.customer_id = customer_orders.customer_id
),

final as (
    select
        -- ids
        tenant_id,
        customer_id,
        email,
        cast({{ dbt.date_trunc('month', 'first_order_date') }} as date) as cohort_month,
        -- counts
        order_count,
        -- amounts
        currency,
        gross_spend_minor,
        refunded_minor,
        gross_spend_minor - refunded_minor as lifetime_value_minor,
        {{ minor_average('gross_spend_minor', 'order_count') }} as average_order_value_minor,
        -- flags
        order_count > 0 and gross_spend_minor - refunded_minor >= vip_lifetime_value_minor
            as is_vip,
        order_count > 0 and days_since_first_order < new_customer_days as is_new,
        order_count > 0 and days_since_last_order >= inactive_customer_days as is_inactive,
        -- dates
        first_order_date,
        last_order_date,
        days_since_last_order,
        as_of_date,
        -- timestamps
        first_order_at,
        last_order_at
    from measured
)

select * from final
