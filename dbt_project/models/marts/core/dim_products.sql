with products as (
    select * from {{ ref('stg_shop__products') }}
),

skus as (
    select * from {{ ref('int_products__unnested') }}
),

sku_totals as (
    select
        tenant_id,
        product_id,
        count(variant_id) as variant_count,
        {{ int_sum('stock_quantity') }} as total_stock_quantity
    from skus
    group by tenant_id, product_id
),

final as (
    select
        -- ids
        products.tenant_id,
        products.product_id,
        products.sku,
        products.product_name,
        products.description,
        products.category,
        products.subcategory,
        {{ dbt.concat([
            "coalesce(products.category, 'Uncategorized')",
            "coalesce(" ~ dbt.concat(["' > '", 'products.subcategory']) ~ ", '')",
        ]) }} as category_path,
        products.tags,
        products.meta_title,
        products.meta_description,
        products.variants,
        coalesce(sku_totals.variant_count, 0) as variant_count,
        -- amounts
        products.currency,
        products.price_minor,
        products.cost_minor,
        products.price_minor - products.cost_minor as unit_margin_minor,
        coalesce(sku_totals.total_stock_quantity, 0) as total_stock_quantity,
        products.min_stock_level,
        -- flags
        products.is_active,
        products.cost_minor is not null as has_cost,
        -- timestamps
        products.created_at,
        products.updated_at
    from products
    left join sku_totals
        on products.tenant_id = sku_totals.tenant_id
        and products.product_id = sku_totals.product_id
)

select * from final
