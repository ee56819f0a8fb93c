{%- set velocity_days = var('stock_velocity_days') -%}

-- Current stock per SKU. A SKU with stock events takes its level from them (counts and deltas,
-- int_stock_events__leveled, summed up per SKU in int_stock_ledger); one without any falls back
-- to the catalogue's stock_quantity. A table rebuilt by every build: its sales velocity moves
-- with "today".
with skus as (
    select * from {{ ref('int_products__unnested') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

tenants as (
    select
        *,
        {{ as_of_date('timezone') }} as as_of_date
    from {{ ref('stg_control__tenants') }}
),

ledger as (
    select * from {{ ref('int_stock_ledger') }}
),

-- Lines are cut first by a bound a day wider than any tenant's window (local days start at
-- most 14 hours from UTC midnight): the join then sees the recent lines, not every line.
recent_lines as (
    select *
    from {{ ref('fct_order_items') }}
    where order_created_at >= (
        select {{ dbt.dateadd('day', -(velocity_days + 1), 'min(as_of_date)') }}
        from tenants
    )
),

recent_sales as (
    select
        lines.tenant_id,
        lines.product_id,
        lines.variant_id,
        {{ int_sum('lines.quantity') }} as units_sold
    from recent_lines as lines
    inner join {{ ref('int_orders__localized') }} as orders
        on lines.tenant_id = orders.tenant_id
        and lines.order_id = orders.order_id
    inner join tenants
        on lines.tenant_id = tenants.tenant_id
    where orders.counts_in_sales
        and orders.created_date <= tenants.as_of_date
        and {{ dbt.datediff('orders.created_date', 'tenants.as_of_date', 'day') }}
            < {{ velocity_days }}
    group by lines.tenant_id, lines.product_id, lines.variant_id
),

measured as (
    select
        skus.tenant_id,
        skus.product_id,
        skus.variant_id,
        skus.sku,
        products.product_name,
        skus.variant_name,
        ledger.ledger_level is not null as is_from_ledger,
        coalesce(ledger.ledger_level, skus.stock_quantity) as stock_quantity,
        case
            when skus.min_stock_level > 0 then skus.min_stock_level
            else tenants.low_stock_default
        end as min_stock_level,
        coalesce(recent_sales.units_sold, 0) as units_sold_recent,
        coalesce(ledger.stockout_count, 0) as stockout_count,
        ledger.last_stockout_at,
        ledger.last_movement_at
    from skus
    inner join products
        on skus.tenant_id = products.tenant_id
        and skus.product_id = products.product_id
    inner join tenants
        on skus.tenant_id = tenants.tenant_id
    left join ledger
        on skus.tenant_id = ledger.tenant_id
        and skus.product_id = ledger.product_id
        and {{ equal_or_both_null('skus.variant_id', 'ledger.variant_id') }}
    left join recent_sales
        on skus.tenant_id = recent_sales.tenant_id
        and skus.product_id = recent_sales.product_id
        and {{ equal_or_both_null('skus.variant_id', 'recent_sales.variant_id') }}
),

final as (
    select
        -- ids
        tenant_id,
        product_id,
        variant_id,
        sku,
        product_name,
        variant_name,
        -- quantities
        stock_quantity,
        min_stock_level,
        units_sold_recent as units_sold_{{ velocity_days }}d,
        {{ ratio('units_sold_recent', velocity_days, 4) }} as sales_velocity_per_day,
        -- days the stock lasts at that velocity (NULL without recent sales, 0 when out of stock)
        {{ ratio(
            'case when stock_quantity > 0 then stock_quantity else 0 end * ' ~ velocity_days,
            'units_sold_recent',
            1
        ) }} as days_of_cover,
        stockout_count,
        -- flags
        stock_quantity <= min_stock_level as is_low_stock,
        stock_quantity <= 0 as is_out_of_stock,
        is_from_ledger,
        -- timestamps
        last_stockout_at,
        last_movement_at
    from measured
)

select * from final
