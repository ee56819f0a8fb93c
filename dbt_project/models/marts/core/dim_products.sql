{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id'],
    meta={'record_changes': true},
) }}

-- Incremental like the facts (macros/incremental.sql): a row depends only on its product's
-- latest version, so a run reads the versions landed since the watermark and replaces those
-- products' rows; a build where no product landed costs nothing here.
with product_versions as (
    select * from {{ ref('base_shop__products') }}
    where {{ landed_since_watermark() }}
),

changed_products as (
    {{ latest_version('product_versions', ['tenant_id', 'product_id']) }}
),

current_products as (
    select * from changed_products
    where not is_deleted
),

skus as (
    {{ product_skus('current_products') }}
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
        products.updated_at,
        -- lineage: the watermark of the next run
        products._ingested_at,
        products.is_deleted
    from changed_products as products
    left join sku_totals
        on products.tenant_id = sku_totals.tenant_id
        and products.product_id = sku_totals.product_id
)

{{ emit_changes('final') }}
