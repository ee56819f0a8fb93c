{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id', 'variant_id'],
    meta={'test_changed_keys': true},
) }}

{%- set velocity_days = var('stock_velocity_days') %}
{%- set product_key = ['tenant_id', 'product_id'] %}

-- Current stock per SKU. A SKU with stock events takes its level from them (counts and deltas,
-- int_stock_events__leveled, summed up per SKU in int_stock_ledger); one without any falls back
-- to the catalogue's stock_quantity.
-- Incremental by product: a run recomputes every SKU of the products dim_products replaced or
-- inserted, of the SKUs whose ledger changed, and of the SKUs whose recent sales moved (lines
-- fct_order_items replaced or inserted, and the recent lines of orders int_orders__localized
-- recomputed); and every SKU of a tenant whose as-of day moved (the velocity window slid: the
-- first build of each local day), whose low-stock default changed, or that is gone. A SKU no
-- current product has any more leaves a tombstone. After a failed build the change logs are
-- incomplete: every product, held or current.
with tenants as (
    select
        *,
        {{ as_of_date('timezone') }} as as_of_date
    from {{ ref('stg_control__tenants') }}
),

-- Lines are cut first by a bound a day wider than any tenant's window (local days start at
-- most 14 hours from UTC midnight): the joins then see the recent lines, not every line.
recent_lines as (
    select *
    from {{ ref('fct_order_items') }}
    where order_created_at >= (
        select {{ dbt.dateadd('day', -(velocity_days + 1), 'min(as_of_date)') }}
        from tenants
    )
),

{% if is_incremental() -%}
moved_tenants as (
    select distinct held.tenant_id
    from {{ this }} as held
    left join tenants
        on held.tenant_id = tenants.tenant_id
    where tenants.tenant_id is null
        or held.as_of_date <> tenants.as_of_date
        or (held.uses_default_min_level and held.min_stock_level <> tenants.low_stock_default)
),

affected_products as (
    {%- if change_log_usable() %}
    select tenant_id, product_id from {{ change_log(ref('dim_products')) }}

    union

    select tenant_id, product_id from {{ change_log(ref('int_stock_ledger')) }}

    union

    select tenant_id, product_id from {{ change_log(ref('fct_order_items')) }}

    union

    select lines.tenant_id, lines.product_id
    from recent_lines as lines
    where {{ key_among(['tenant_id', 'order_id'], change_log(ref('int_orders__localized')), 'lines') }}

    union

    select held.tenant_id, held.product_id
    from {{ this }} as held
    where {{ key_among(['tenant_id'], 'moved_tenants', 'held') }}

    union

    select products.tenant_id, products.product_id
    from {{ ref('dim_products') }} as products
    where {{ key_among(['tenant_id'], 'moved_tenants', 'products') }}
    {%- else %}
    select tenant_id, product_id from {{ ref('dim_products') }}

    union

    select tenant_id, product_id from {{ this }}
    {%- endif %}
),

products as (
    select *
    from {{ ref('dim_products') }} as products
    where {{ key_among(product_key, 'affected_products', 'products') }}
),

ledger as (
    select *
    from {{ ref('int_stock_ledger') }} as ledger
    where {{ key_among(product_key, 'affected_products', 'ledger') }}
),

sold_lines as (
    select *
    from recent_lines as lines
    where {{ key_among(product_key, 'affected_products', 'lines') }}
),
{%- else -%}
products as (
    select * from {{ ref('dim_products') }}
),

ledger as (
    select * from {{ ref('int_stock_ledger') }}
),

sold_lines as (
    select * from recent_lines
),
{%- endif %}

-- dim_products keeps a product's catalogue stock as total_stock_quantity (its own when it has
-- no variants); product_skus reads it as stock_quantity.
catalogue as (
    select
        *,
        total_stock_quantity as stock_quantity
    from products
),

skus as (
    {{ product_skus('catalogue') }}
),

recent_sales as (
    select
        lines.tenant_id,
        lines.product_id,
        lines.variant_id,
        {{ int_sum('lines.quantity') }} as units_sold
    from sold_lines as lines
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
        coalesce(skus.min_stock_level, 0) <= 0 as uses_default_min_level,
        case
            when skus.min_stock_level > 0 then skus.min_stock_level
            else tenants.low_stock_default
        end as min_stock_level,
        coalesce(recent_sales.units_sold, 0) as units_sold_recent,
        tenants.as_of_date,
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

levels as (
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
        uses_default_min_level,
        -- dates and timestamps
        as_of_date,
        last_stockout_at,
        last_movement_at
    from measured
),

-- Tombstones for SKUs of affected products that no current product has any more (a product or
-- variant deleted, a tenant gone).
final as (
    {{ with_tombstones(
        'levels', this, ['tenant_id', 'product_id', 'variant_id'], alias='held',
        where=key_among(product_key, 'affected_products', 'held'),
    ) }}
)

{{ emit_changes('final') }}
