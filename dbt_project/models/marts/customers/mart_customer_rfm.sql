-- Recency, frequency and monetary value over each tenant's RFM window (rfm_window_days, ending
-- on the as-of day), scored 1-5 within the tenant and mapped to a named segment (macros/rfm.sql).
with orders as (
    select * from {{ ref('int_orders__localized') }}
    where counts_in_sales
        and customer_id is not null
),

tenants as (
    select
        *,
        {{ as_of_date('timezone') }} as as_of_date
    from {{ ref('stg_control__tenants') }}
),

windowed_orders as (
    select
        orders.tenant_id,
        orders.customer_id,
        orders.created_date,
        orders.total_minor - orders.refunded_minor as net_minor,
        tenants.as_of_date,
        tenants.rfm_window_days,
        tenants.currency
    from orders
    inner join tenants
        on orders.tenant_id = tenants.tenant_id
    where orders.created_date <= tenants.as_of_date
        and {{ dbt.datediff('orders.created_date', 'tenants.as_of_date', 'day') }}
            < tenants.rfm_window_days
),

customer_values as (
    select
        tenant_id,
        customer_id,
        min(currency) as currency,
        min(as_of_date) as as_of_date,
        min(rfm_window_days) as window_days,
        max(created_date) as last_order_date,
        count(*) as frequency,
        {{ int_sum('net_minor') }} as monetary_minor
    from windowed_orders
    group by tenant_id, customer_id
),

measured as (
    select
        *,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as recency_days
    from customer_values
),

scored as (
    select
        *,
        {{ rfm_score('recency_days desc') }} as r_score,
        {{ rfm_score('frequency') }} as f_score,
        {{ rfm_score('monetary_minor') }} as m_score
    from measured
),

final as (
    select
        -- ids
        tenant_id,
        customer_id,
        -- measures
        recency_days,
        frequency,
        currency,
        monetary_minor,
        -- scores
        r_score,
        f_score,
        m_score,
        {{ int_div('f_score + m_score + 1', 2) }} as fm_score,
        {{ dbt.concat([
            dbt.cast('r_score', dbt.type_string()),
            dbt.cast('f_score', dbt.type_string()),
            dbt.cast('m_score', dbt.type_string()),
        ]) }} as rfm_cell,
        {{ rfm_segment('r_score', int_div('f_score + m_score + 1', 2)) }} as segment,
        -- dates
        last_order_date,
        as_of_date,
        window_days
    from scored
)

select * from final
