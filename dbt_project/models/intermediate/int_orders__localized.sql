{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'order_id'],
    meta={'record_changes': true, 'test_changed_keys': true},
) }}

-- A table, not a view: seven marts and their tests read it, and it joins every order line.
-- Orders in their tenant's calendar, with the per-order sums every sales and customer mart
-- needs. `counts_in_sales`: paid, and in the tenant's reporting currency (marts never add up
-- amounts of two currencies).
-- Incremental by customer: `is_first_order` depends on all of a customer's orders, so a run
-- recomputes every order of each customer an order fct_orders replaced belongs or belonged to,
-- the replaced orders themselves (guest orders have no customer), and every order of a tenant
-- whose zone, currency or high-value threshold changed (rows keep the settings they were
-- computed with). An order gone from fct_orders leaves a tombstone. Lines change only with their
-- order (fct_order_items' unit of change), so fct_orders' change log names them too. The rows
-- this replaced and inserted stay in `int_orders__localized__changes` for the sales marts.
with tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

{% if is_incremental() -%}
changed_orders as (
    {%- if change_log_usable() %}
    select tenant_id, order_id, customer_id from {{ change_log(ref('fct_orders')) }}
    {%- else %}
    -- After a failed build the change log is incomplete: every order, held or current.
    select tenant_id, order_id, customer_id from {{ ref('fct_orders') }}

    union

    select tenant_id, order_id, customer_id from {{ this }}
    {%- endif %}

    union

    select held.tenant_id, held.order_id, held.customer_id
    from {{ this }} as held
    {%- set new_settings = tenants_with_new_settings() %}
    {%- if new_settings %}
    where {{ key_among(['tenant_id'], new_settings, 'held') }}
    {%- else %}
    left join tenants
        on held.tenant_id = tenants.tenant_id
    where tenants.tenant_id is null
        or held.timezone <> tenants.timezone
        or held.reporting_currency <> tenants.currency
        or held.high_value_order_minor <> tenants.high_value_order_minor
    {%- endif %}
),

changed_customers as (
    select distinct tenant_id, customer_id
    from changed_orders
    where customer_id is not null
),

-- `exists` rather than joins: the changed sets are the sides to hash.
orders as (
    select orders.*
    from {{ ref('fct_orders') }} as orders
    where {{ key_among(['tenant_id', 'order_id'], 'changed_orders', 'orders') }}
    or {{ key_among(['tenant_id', 'customer_id'], 'changed_customers', 'orders') }}
),
{%- else %}
orders as (
    select * from {{ ref('fct_orders') }}
),
{%- endif %}

line_totals as (
    select
        items.tenant_id,
        items.order_id,
        {{ int_sum('items.quantity') }} as units,
        {{ int_sum('items.line_gross_minor') }} as gross_minor,
        {{ int_sum('items.discount_minor') }} as line_discount_minor
    from {{ ref('fct_order_items') }} as items
    {%- if is_incremental() %}
    where {{ key_among(['tenant_id', 'order_id'], 'orders', 'items') }}
    {%- endif %}
    group by items.tenant_id, items.order_id
),

localized as (
    select
        -- ids
        orders.tenant_id,
        orders.order_id,
        orders.customer_id,
        orders.status,
        -- amounts
        orders.currency,
        coalesce(line_totals.units, 0) as units,
        coalesce(line_totals.gross_minor, 0) as gross_minor,
        coalesce(line_totals.line_discount_minor, 0) + orders.discount_minor as discounts_minor,
        orders.tax_minor,
        orders.shipping_minor,
        orders.total_minor,
        orders.amount_refunded_minor as refunded_minor,
        -- flags
        orders.is_paid and orders.currency = tenants.currency as counts_in_sales,
        orders.total_minor >= tenants.high_value_order_minor as is_high_value,
        -- timestamps
        orders.created_at,
        {{ to_local_timestamp('orders.created_at', 'tenants.timezone') }} as created_local_at,
        {{ local_date('orders.created_at', 'tenants.timezone') }} as created_date,
        -- the tenant settings the row was computed with
        tenants.timezone,
        tenants.currency as reporting_currency,
        tenants.high_value_order_minor
    from orders
    inner join tenants
        on orders.tenant_id = tenants.tenant_id
    left join line_totals
        on orders.tenant_id = line_totals.tenant_id
        and orders.order_id = line_totals.order_id
),

-- A customer's first counted order makes them "new" in that day's and hour's sales.
first_orders as (
    select
        tenant_id,
        order_id,
        row_number() over (
            partition by tenant_id, customer_id
            order by created_at, order_id
        ) = 1 as is_first_order
    from localized
    where counts_in_sales
        and customer_id is not null
),

flagged as (
    select
        localized.*,
        coalesce(first_orders.is_first_order, false) as is_first_order
    from localized
    left join first_orders
        on localized.tenant_id = first_orders.tenant_id
        and localized.order_id = first_orders.order_id
),

-- Tombstones for orders gone from fct_orders, or of a tenant gone from the control plane.
final as (
    {{ with_tombstones('flagged', 'changed_orders', ['tenant_id', 'order_id'], kept='localized') }}
)

{{ emit_changes('final') }}
