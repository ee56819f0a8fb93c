{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'order_id'],
) }}

-- An order's row changes when a new version of the order lands, and when money moves on it:
-- a provider payment or a refund of it changes. Moved orders are found by comparing the
-- amounts held here with the current totals (a deleted or moved refund carries no order id to
-- follow), and their rows are re-emitted from this table with the new amounts.
with order_versions as (
    select * from {{ ref('base_shop__orders') }}
    where {{ landed_since_watermark() }}
),

changed_orders as (
    {{ latest_version('order_versions', ['tenant_id', 'order_id']) }}
),

order_rows as (
    select
        tenant_id,
        order_id,
        order_number,
        customer_id,
        status,
        currency,
        subtotal_minor,
        discount_minor,
        tax_minor,
        shipping_minor,
        total_minor,
        created_at,
        updated_at,
        payment_provider,
        payment_status,
        payment_reference,
        _batch_id,
        _ingested_at,
        is_deleted
    from changed_orders
),

-- Money per order: fct_refunds is the one refund ledger (merchant refunds and every Stripe
-- refund, which the payments code lands as a refund record too); provider payments give what
-- was captured. Their own amount_refunded_minor counts the same Stripe refunds again, so it is
-- never added here.
money_moves as (
    select
        tenant_id,
        order_id,
        1 as payment_count,
        amount_captured_minor as captured_minor,
        0 as refunded_minor
    from {{ ref('fct_payments') }}
    where payment_source = 'stripe'

    union all

    select
        tenant_id,
        order_id,
        0 as payment_count,
        0 as captured_minor,
        amount_minor as refunded_minor
    from {{ ref('fct_refunds') }}
    where is_succeeded
),

money_totals as (
    select
        tenant_id,
        order_id,
        {{ int_sum('payment_count') }} as payment_count,
        {{ int_sum('coalesce(captured_minor, 0)') }} as captured_minor,
        {{ int_sum('refunded_minor') }} as refunded_minor
    from money_moves
    group by tenant_id, order_id
),

{% if is_incremental() -%}
held_totals as (
    select
        tenant_id,
        order_id,
        stripe_payment_count as payment_count,
        case when stripe_payment_count > 0 then amount_paid_minor else 0 end as captured_minor,
        amount_refunded_minor as refunded_minor
    from {{ this }}
    where stripe_payment_count > 0 or amount_refunded_minor > 0
),

moved_orders as (
    select
        coalesce(held_totals.tenant_id, money_totals.tenant_id) as tenant_id,
        coalesce(held_totals.order_id, money_totals.order_id) as order_id
    from held_totals
    full outer join money_totals
        on held_totals.tenant_id = money_totals.tenant_id
        and held_totals.order_id = money_totals.order_id
    where coalesce(held_totals.payment_count, 0) <> coalesce(money_totals.payment_count, 0)
        or coalesce(held_totals.captured_minor, 0) <> coalesce(money_totals.captured_minor, 0)
        or coalesce(held_totals.refunded_minor, 0) <> coalesce(money_totals.refunded_minor, 0)
),

moved_rows as (
    select
        held.tenant_id,
        held.order_id,
        held.order_number,
        held.customer_id,
        held.status,
        held.currency,
        held.subtotal_minor,
        held.discount_minor,
        held.tax_minor,
        held.shipping_minor,
        held.total_minor,
        held.created_at,
        held.updated_at,
        held.payment_provider,
        held.payment_status,
        held.payment_reference,
        held._batch_id,
        held._ingested_at,
        false as is_deleted
    from {{ this }} as held
    where {{ key_among(['tenant_id', 'order_id'], 'moved_orders', 'held') }}
        and not {{ key_among(['tenant_id', 'order_id'], 'order_rows', 'held') }}
),

rows_to_emit as (
    select * from order_rows
    union all
    select * from moved_rows
),
{%- else -%}
rows_to_emit as (
    select * from order_rows
),
{%- endif %}

with_money as (
    select
        rows_to_emit.*,
        rows_to_emit.status in ('paid', 'fulfilled', 'refunded', 'partially_refunded') as is_paid,
        coalesce(money_totals.payment_count, 0) as stripe_payment_count,
        case
            when coalesce(money_totals.payment_count, 0) > 0 then money_totals.captured_minor
            when rows_to_emit.status in ('paid', 'fulfilled', 'refunded', 'partially_refunded')
                then rows_to_emit.total_minor
            else 0
        end as amount_paid_minor,
        coalesce(money_totals.refunded_minor, 0) as amount_refunded_minor
    from rows_to_emit
    left join money_totals
        on rows_to_emit.tenant_id = money_totals.tenant_id
        and rows_to_emit.order_id = money_totals.order_id
),

final as (
    select
        -- ids
        tenant_id,
        order_id,
        order_number,
        customer_id,
        status,
        -- amounts
        currency,
        subtotal_minor,
        discount_minor,
        tax_minor,
        shipping_minor,
        total_minor,
        -- flags
        is_paid,
        customer_id is null as is_guest,
        -- timestamps
        created_at,
        updated_at,
        -- the payment as the merchant sent it (its status is the merchant's word; what Stripe
        -- captured is in financial_status and the amount_* columns below)
        payment_provider,
        payment_status,
        payment_reference,
        -- lineage: the raw version this row is, and the watermark of the next run
        _batch_id,
        _ingested_at,
        -- money actually moved (README "Payments and refunds")
        case
            when amount_paid_minor <= 0 then 'unpaid'
            when amount_refunded_minor <= 0 then 'paid'
            when amount_refunded_minor < amount_paid_minor then 'partially_refunded'
            else 'refunded'
        end as financial_status,
        stripe_payment_count,
        amount_paid_minor,
        amount_refunded_minor,
        is_deleted
    from with_money
)

{{ emit_changes('final') }}
