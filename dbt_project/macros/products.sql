{#-
  One row per stock-keeping unit of the products in `products` (a relation or CTE with the
  staging columns): the product itself when it has no variants (variant_id NULL), else each of
  its variants. A variant without its own price sells at the product's price; min_stock_level is
  the product's. Shared by int_products__unnested (every current product, for analysts),
  dim_products (only the products an incremental run changed) and mart_stock_levels (from
  dim_products' rows, with total_stock_quantity as stock_quantity).
-#}
{% macro product_skus(products) -%}
    select
        tenant_id,
        product_id,
        variant.id as variant_id,
        variant.sku as sku,
        variant.name as variant_name,
        coalesce(variant.price_minor, price_minor) as price_minor,
        coalesce(variant.stock_quantity, 0) as stock_quantity,
        min_stock_level
    from (
        {{ unnest_list(products, 'variants', 'variant',
            ['tenant_id', 'product_id', 'price_minor', 'min_stock_level']) }}
    ) as variants

    union all

    select
        tenant_id,
        product_id,
        cast(null as {{ dbt.type_string() }}) as variant_id,
        sku,
        cast(null as {{ dbt.type_string() }}) as variant_name,
        price_minor,
        coalesce(stock_quantity, 0) as stock_quantity,
        min_stock_level
    from {{ products }}
    where {{ list_length('variants') }} = 0
{%- endmacro %}
