{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'customer_id'],
    meta={'test_changed_keys': true},
) }}

-- Each customer's counted orders in one row, for mart_customer_lifetime: the aggregate over
-- every order that used to be recomputed whole by every build.
-- Incremental by customer: a run recomputes the customers of the orders int_orders__localized
-- replaced or inserted (its change log keeps both rows, so an order moved to another customer
-- counts for both), and a customer left without counted orders leaves a tombstone. After a
-- failed build the change log is incomplete: every customer, held or current.
with all_orders as (
    select * from {{ ref('int_orders__localized') }}
    where counts_in_sales
        and customer_id is not null
),

{% if is_incremental() -%}
affected_customers as (
    {%- if change_log_usable() %}
    select distinct tenant_id, customer_id
    from {{ change_log(ref('int_orders__localized')) }}
    where customer_id is not null
    {%- else %}
    select tenant_id, customer_id from all_orders

    union

    select tenant_id, customer_id from {{ this }}
    {%- endif %}
),

-- `exists` rather than a join: the affected customers are the side to hash.
orders as (
    select *
    from all_orders
    where {{ key_among(['tenant_id', 'customer_id'], 'affected_customers', 'all_orders') }}
),
{%- else %}
orders as (
    select * from all_orders
),
{%- endif %}

customer_orders as (
    select
        tenant_id,
        customer_id,
        count(*) as order_count,
        {{ int_sum('total_minor') }} as gross_spend_minor,
        {{ int_sum('refunded_minor') }} as refunded_minor,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        min(created_date) as first_order_date,
        max(created_date) as last_order_date
    from orders
    group by tenant_id, customer_id
),

-- Tombstones for customers no counted order names any more.
final as (
    {{ with_tombstones('customer_orders', 'affected_customers', ['tenant_id', 'customer_id']) }}
)

{{ emit_changes('final') }}
