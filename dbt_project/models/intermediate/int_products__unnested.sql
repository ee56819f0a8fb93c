-- One row per stock-keeping unit: a product without variants is its own SKU; a product with
-- variants has one SKU per variant (a variant without a price sells at the product's price).
with products as (
    select * from {{ ref('stg_shop__products') }}
),

variants as (
    {{ unnest_list('products', 'variants', 'variant',
        ['tenant_id', 'product_id', 'price_minor', 'min_stock_level']) }}
),

variant_skus as (
    select
        tenant_id,
        product_id,
        variant.id as variant_id,
        variant.sku as sku,
        variant.name as variant_name,
        coalesce(variant.price_minor, price_minor) as price_minor,
        coalesce(variant.stock_quantity, 0) as stock_quantity,
        min_stock_level
    from variants
),

product_skus as (
    select
        tenant_id,
        product_id,
        cast(null as {{ dbt.type_string() }}) as variant_id,
        sku,
        cast(null as {{ dbt.type_string() }}) as variant_name,
        price_minor,
        coalesce(stock_quantity, 0) as stock_quantity,
        min_stock_level
    from products
    where {{ list_length('variants') }} = 0
),

final as (
    select * from variant_skus
    union all
    select * from product_skus
)

select * from final
