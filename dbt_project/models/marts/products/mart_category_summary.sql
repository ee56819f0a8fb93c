-- Categories as products name them (category_path: "Category > Subcategory"); products with no
-- category are grouped as "Uncategorized". Distinct orders per category come from
-- int_order_categories (incremental by order).
with products as (
    select * from {{ ref('mart_product_performance') }}
),

order_categories as (
    select * from {{ ref('int_order_categories') }}
),

category_orders as (
    select
        tenant_id,
        category_path,
        count(*) as order_count
    from order_categories
    group by tenant_id, category_path
),

category_products as (
    select
        tenant_id,
        category_path,
        min(currency) as currency,
        count(*) as product_count,
        {{ int_sum('case when is_active then 1 else 0 end') }} as active_product_count,
        {{ int_sum('case when units_sold > 0 then 1 else 0 end') }} as sold_product_count,
        {{ int_sum('units_sold') }} as units_sold,
        {{ int_sum('revenue_minor') }} as revenue_minor,
        {{ int_sum('case when has_cost then revenue_minor else 0 end') }} as costed_revenue_minor,
        {{ int_sum('coalesce(margin_minor, 0)') }} as margin_minor
    from products
    group by tenant_id, category_path
),

final as (
    select
        -- ids
        category_products.tenant_id,
        category_products.category_path,
        -- counts
        category_products.product_count,
        category_products.active_product_count,
        category_products.sold_product_count,
        category_products.units_sold,
        coalesce(category_orders.order_count, 0) as order_count,
        -- amounts (margin over the products whose cost is known)
        category_products.currency,
        category_products.revenue_minor,
        category_products.costed_revenue_minor,
        category_products.margin_minor,
        {{ ratio('category_products.margin_minor', 'category_products.costed_revenue_minor', 4) }}
            as margin_rate,
        {{ ratio(
            'category_products.revenue_minor',
            'sum(category_products.revenue_minor) over (partition by category_products.tenant_id)',
            4
        ) }} as revenue_share,
        rank() over (
            partition by category_products.tenant_id
            order by category_products.revenue_minor desc
        ) as revenue_rank_in_tenant
    from category_products
    left join category_orders
        on category_products.tenant_id = category_orders.tenant_id
        and category_products.category_path = category_orders.category_path
)

select * from final
