-- One row per stock-keeping unit (macros/products.sql): a product without variants is its own
-- SKU; a product with variants has one SKU per variant.
with products as (
    select * from {{ ref('stg_shop__products') }}
),

final as (
    {{ product_skus('products') }}
)

select * from final
