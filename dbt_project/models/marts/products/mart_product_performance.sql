-- Revenue here is line revenue: quantity * unit price - line discount, before order-level
-- discounts, tax and shipping (which belong to orders, not products). The sales come from
-- int_product_sales (incremental by product); this table joins them to every current product
-- and ranks them, which needs the whole tenant.
with products as (
    select * from {{ ref('dim_products') }}
),

sales as (
    select * from {{ ref('int_product_sales') }}
),

measured as (
    select
        products.tenant_id,
        products.product_id,
        products.sku,
        products.product_name,
        products.category_path,
        products.is_active,
        products.has_cost,
        products.currency,
        products.cost_minor,
        coalesce(sales.units_sold, 0) as units_sold,
        coalesce(sales.order_count, 0) as order_count,
        coalesce(sales.refunded_order_count, 0) as refunded_order_count,
        coalesce(sales.revenue_minor, 0) as revenue_minor,
        sales.last_sold_at
    from products
    left join sales
        on products.tenant_id = sales.tenant_id
        and products.product_id = sales.product_id
),

final as (
    select
        -- ids
        tenant_id,
        product_id,
        sku,
        product_name,
        category_path,
        -- counts
        units_sold,
        order_count,
        refunded_order_count,
        -- amounts (margin only where the product's cost is known)
        currency,
        revenue_minor,
        case when has_cost then units_sold * cost_minor end as cost_of_goods_minor,
        case when has_cost then revenue_minor - units_sold * cost_minor end as margin_minor,
        case when has_cost then {{ ratio('revenue_minor - units_sold * cost_minor', 'revenue_minor', 4) }} end
            as margin_rate,
        {{ ratio('refunded_order_count', 'order_count', 4) }} as refund_rate,
        -- ranks (by revenue; equal revenue, equal rank)
        rank() over (partition by tenant_id order by revenue_minor desc) as revenue_rank_in_tenant,
        rank() over (
            partition by tenant_id, category_path order by revenue_minor desc
        ) as revenue_rank_in_category,
        -- flags
        is_active,
        has_cost,
        -- timestamps
        last_sold_at
    from measured
)

select * from final
