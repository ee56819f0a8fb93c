{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'customer_id'],
    meta={'test_changed_keys': true},
) }}

{%- set customer_key = ['tenant_id', 'customer_id'] %}

-- Every known customer with their whole order history (orders that count in sales, summed up
-- per customer in int_customer_orders). Lifetime value is what they paid net of refunds; flags
-- compare against the tenant's thresholds on the as-of day.
-- Incremental by customer: a run recomputes the customers dim_customers or int_customer_orders
-- replaced or inserted, and every customer of a tenant whose as-of day moved (the first build of
-- each local day: every day count and flag may move), whose settings changed, or that is gone.
-- A customer gone from dim_customers leaves a tombstone. After a failed build (or when the
-- tenants' change log is not this run's) every customer is recomputed.
with tenants as (
    select
        *,
        {{ as_of_date('timezone') }} as as_of_date
    from {{ ref('stg_control__tenants') }}
),

{% if is_incremental() -%}
{%- set new_settings = tenants_with_new_settings() %}
{%- if new_settings %}
moved_tenants as (
    select held.tenant_id
    from (select distinct tenant_id, as_of_date from {{ this }}) as held
    left join tenants
        on held.tenant_id = tenants.tenant_id
    where tenants.tenant_id is null
        or held.as_of_date <> tenants.as_of_date

    union

    select tenant_id from {{ new_settings }}
),
{%- endif %}

affected_customers as (
    {%- if new_settings %}
    select tenant_id, customer_id from {{ change_log(ref('dim_customers')) }}

    union

    select tenant_id, customer_id from {{ change_log(ref('int_customer_orders')) }}

    union

    select held.tenant_id, held.customer_id
    from {{ this }} as held
    where {{ key_among(['tenant_id'], 'moved_tenants', 'held') }}

    union

    select customers.tenant_id, customers.customer_id
    from {{ ref('dim_customers') }} as customers
    where {{ key_among(['tenant_id'], 'moved_tenants', 'customers') }}
    {%- else %}
    select tenant_id, customer_id from {{ ref('dim_customers') }}

    union

    select tenant_id, customer_id from {{ this }}
    {%- endif %}
),

-- `exists` rather than joins: the affected set is the side to hash.
customers as (
    select *
    from {{ ref('dim_customers') }} as customers
    where {{ key_among(customer_key, 'affected_customers', 'customers') }}
),

customer_orders as (
    select *
    from {{ ref('int_customer_orders') }} as customer_orders
    where {{ key_among(customer_key, 'affected_customers', 'customer_orders') }}
),
{%- else %}
customers as (
    select * from {{ ref('dim_customers') }}
),

customer_orders as (
    select * from {{ ref('int_customer_orders') }}
),
{%- endif %}

measured as (
    select
        customers.tenant_id,
        customers.customer_id,
        customers.email,
        tenants.currency,
        tenants.as_of_date,
        tenants.vip_lifetime_value_minor,
        tenants.new_customer_days,
        tenants.inactive_customer_days,
        coalesce(customer_orders.order_count, 0) as order_count,
        coalesce(customer_orders.gross_spend_minor, 0) as gross_spend_minor,
        coalesce(customer_orders.refunded_minor, 0) as refunded_minor,
        customer_orders.first_order_at,
        customer_orders.last_order_at,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        {{ dbt.datediff('customer_orders.first_order_date', 'tenants.as_of_date', 'day') }}
            as days_since_first_order,
        {{ dbt.datediff('customer_orders.last_order_date', 'tenants.as_of_date', 'day') }}
            as days_since_last_order
    from customers
    inner join tenants
        on customers.tenant_id = tenants.tenant_id
    left join customer_orders
        on customers.tenant_id = customer_orders.tenant_id
        and customers.customer_id = customer_orders.customer_id
),

lifetimes as (
    select
        -- ids
        tenant_id,
        customer_id,
        email,
        cast({{ dbt.date_trunc('month', 'first_order_date') }} as date) as cohort_month,
        -- counts
        order_count,
        -- amounts
        currency,
        gross_spend_minor,
        refunded_minor,
        gross_spend_minor - refunded_minor as lifetime_value_minor,
        {{ minor_average('gross_spend_minor', 'order_count') }} as average_order_value_minor,
        -- flags
        order_count > 0 and gross_spend_minor - refunded_minor >= vip_lifetime_value_minor
            as is_vip,
        order_count > 0 and days_since_first_order < new_customer_days as is_new,
        order_count > 0 and days_since_last_order >= inactive_customer_days as is_inactive,
        -- dates
        first_order_date,
        last_order_date,
        days_since_last_order,
        as_of_date,
        -- timestamps
        first_order_at,
        last_order_at
    from measured
),

-- Tombstones for customers gone from dim_customers, or of a tenant gone from the control plane.
final as (
    {{ with_tombstones('lifetimes', 'affected_customers', customer_key, kept='measured') }}
)

{{ emit_changes('final') }}
