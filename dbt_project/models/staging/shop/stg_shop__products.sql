with versions as (
    select * from {{ ref('base_shop__products') }}
),

current_versions as (
    {{ latest_version('versions', ['tenant_id', 'product_id']) }}
),

final as (
    select
        tenant_id,
        product_id,
        sku,
        product_name,
        description,
        category,
        subcategory,
        tags,
        meta_title,
        meta_description,
        variants,
        currency,
        price_minor,
        cost_minor,
        stock_quantity,
        min_stock_level,
        is_active,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at
    from current_versions
    where not is_deleted
)

select * from final
