-- Adds up whole marts: full-refresh and scheduled builds only (macros/tests/scope.sql).
{{ config(tags=['whole_table']) }}

-- Per tenant, product revenue and units equal the counted order lines of current products,
-- and category revenue equals product revenue: no line counted twice, lost, or moved tenant.
with counted_lines as (
    select
        lines.tenant_id,
        {{ int_sum('lines.quantity') }} as units,
        {{ int_sum('lines.line_net_minor') }} as revenue_minor
    from {{ ref('fct_order_items') }} as lines
    inner join {{ ref('int_orders__localized') }} as orders
        on lines.tenant_id = orders.tenant_id
        and lines.order_id = orders.order_id
    inner join {{ ref('dim_products') }} as products
        on lines.tenant_id = products.tenant_id
        and lines.product_id = products.product_id
    where orders.counts_in_sales
    group by lines.tenant_id
),

product_totals as (
    select
        tenant_id,
        {{ int_sum('units_sold') }} as units,
        {{ int_sum('revenue_minor') }} as revenue_minor
    from {{ ref('mart_product_performance') }}
    group by tenant_id
)

select
    coalesce(counted_lines.tenant_id, product_totals.tenant_id) as tenant_id,
    counted_lines.units as line_units,
    product_totals.units as product_units,
    counted_lines.revenue_minor as line_revenue_minor,
    product_totals.revenue_minor as product_revenue_minor
from counted_lines
full outer join product_totals
    on counted_lines.tenant_id = product_totals.tenant_id
where coalesce(counted_lines.units, 0) <> coalesce(product_totals.units, 0)
    or coalesce(counted_lines.revenue_minor, 0) <> coalesce(product_totals.revenue_minor, 0)
