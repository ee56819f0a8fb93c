{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id'],
    meta={'test_changed_keys': true},
) }}

-- Each product's sales over every counted order, for mart_product_performance: the aggregate
-- over all order lines that used to be recomputed whole by every build.
-- Incremental by product: a run recomputes the products of the lines fct_order_items replaced
-- or inserted (its change log keeps both, so a product dropped from an order is recomputed
-- too) and of the current lines of every order int_orders__localized recomputed (an order that
-- starts or stops counting, or gains a refund, changes its products' sales without a new line).
-- A product left without counted sales leaves a tombstone. After a failed build the change logs
-- are incomplete: every product, held or sold.
with orders as (
    select * from {{ ref('int_orders__localized') }}
    where counts_in_sales
),

{% if is_incremental() -%}
affected_products as (
    {%- if change_log_usable() %}
    select tenant_id, product_id
    from {{ change_log(ref('fct_order_items')) }}

    union

    select lines.tenant_id, lines.product_id
    from {{ ref('fct_order_items') }} as lines
    where {{ key_among(['tenant_id', 'order_id'], change_log(ref('int_orders__localized')), 'lines') }}
    {%- else %}
    select tenant_id, product_id from {{ ref('fct_order_items') }}

    union

    select tenant_id, product_id from {{ this }}
    {%- endif %}
),

-- `exists` rather than a join: the affected products are the side to hash.
lines as (
    select *
    from {{ ref('fct_order_items') }} as lines
    where {{ key_among(['tenant_id', 'product_id'], 'affected_products', 'lines') }}
),
{%- else %}
lines as (
    select * from {{ ref('fct_order_items') }}
),
{%- endif %}

sold_lines as (
    select
        lines.tenant_id,
        lines.product_id,
        lines.order_id,
        lines.quantity,
        lines.line_net_minor,
        orders.refunded_minor > 0 as is_refunded_order,
        orders.created_at
    from lines
    inner join orders
        on lines.tenant_id = orders.tenant_id
        and lines.order_id = orders.order_id
    where lines.product_id is not null
),

sales as (
    select
        tenant_id,
        product_id,
        {{ int_sum('quantity') }} as units_sold,
        count(distinct order_id) as order_count,
        count(distinct case when is_refunded_order then order_id end) as refunded_order_count,
        {{ int_sum('line_net_minor') }} as revenue_minor,
        max(created_at) as last_sold_at
    from sold_lines
    group by tenant_id, product_id
),

-- Tombstones for products no counted order holds any more.
final as (
    {{ with_tombstones(
        'sales', 'affected_products', ['tenant_id', 'product_id'],
        where='affected_products.product_id is not null',
    ) }}
)

{{ emit_changes('final') }}
