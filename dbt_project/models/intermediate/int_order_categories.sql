{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'order_id'],
    meta={'test_changed_keys': true},
) }}

{%- set order_key = ['tenant_id', 'order_id'] %}

-- The category paths each counted order bought from, for mart_category_summary's distinct
-- orders per category (an order with two lines in one category counts once there), which used
-- to join every line to every order and product on each build.
-- Incremental by order: a run recomputes the orders int_orders__localized or fct_order_items
-- replaced or inserted, and the orders with a line of a product whose category path changed,
-- appeared or went (dim_products' change log holds a product's old and new rows: one row, or
-- two paths). An order left without a category (gone, no longer counted, or its products gone)
-- leaves a tombstone. After a failed build the change logs are incomplete: every order, held or
-- counted.
with

{% if change_log_usable() -%}
recategorized_products as (
    select tenant_id, product_id
    from {{ change_log(ref('dim_products')) }}
    group by tenant_id, product_id
    having count(*) = 1 or count(distinct category_path) > 1
),

{% endif -%}
{% if is_incremental() -%}
affected_orders as (
    {%- if change_log_usable() %}
    select tenant_id, order_id from {{ change_log(ref('int_orders__localized')) }}

    union

    select tenant_id, order_id from {{ change_log(ref('fct_order_items')) }}

    union

    select lines.tenant_id, lines.order_id
    from {{ ref('fct_order_items') }} as lines
    where {{ key_among(['tenant_id', 'product_id'], 'recategorized_products', 'lines') }}
    {%- else %}
    select tenant_id, order_id from {{ ref('int_orders__localized') }}

    union

    select tenant_id, order_id from {{ this }}
    {%- endif %}
),

orders as (
    select *
    from {{ ref('int_orders__localized') }} as orders
    where counts_in_sales
        and {{ key_among(order_key, 'affected_orders', 'orders') }}
),

lines as (
    select *
    from {{ ref('fct_order_items') }} as lines
    where {{ key_among(order_key, 'affected_orders', 'lines') }}
),
{%- else -%}
orders as (
    select * from {{ ref('int_orders__localized') }}
    where counts_in_sales
),

lines as (
    select * from {{ ref('fct_order_items') }}
),
{%- endif %}

categories as (
    select distinct
        lines.tenant_id,
        lines.order_id,
        products.category_path
    from lines
    inner join orders
        on lines.tenant_id = orders.tenant_id
        and lines.order_id = orders.order_id
    inner join {{ ref('dim_products') }} as products
        on lines.tenant_id = products.tenant_id
        and lines.product_id = products.product_id
),

final as (
    {{ with_tombstones('categories', 'affected_orders', order_key) }}
)

{{ emit_changes('final') }}
