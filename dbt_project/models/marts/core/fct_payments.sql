{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'payment_id'],
) }}

-- Two sources of payments, side by side (payment_source):
-- * 'order': the payment object the merchant sent with an order (payment_id 'order:<order_id>').
--   An order without payment details, or deleted, leaves a tombstone so a payment it used to
--   carry disappears.
-- * 'stripe': PaymentIntents landed by the payments API and the Stripe webhook, in the state
--   the webhook code's ordering rule keeps (macros/payments.sql): the state held here is merged
--   with the versions landed since, so an older event landing late never overwrites it.
with order_versions as (
    select * from {{ ref('base_shop__orders') }}
    where {{ landed_since_watermark() }}
),

changed_orders as (
    {{ latest_version('order_versions', ['tenant_id', 'order_id']) }}
),

payment_versions as (
    select * from {{ ref('base_shop__payments') }}
    where {{ landed_since_watermark() }}
),

{% if is_incremental() -%}
held_payments as (
    select * from {{ this }}
    where payment_source = 'stripe'
),

{{ current_payment_states('payment_versions', 'held_payments') }},
{%- else -%}
{{ current_payment_states('payment_versions') }},
{%- endif %}

order_payments as (
    select
        tenant_id,
        {{ dbt.concat(["'order:'", 'order_id']) }} as payment_id,
        order_id,
        'order' as payment_source,
        payment_provider as provider,
        payment_status as status,
        cast(null as {{ dbt.type_string() }}) as provider_status,
        payment_reference as reference,
        cast(null as {{ dbt.type_string() }}) as failure_code,
        currency,
        total_minor as amount_minor,
        cast(null as {{ dbt.type_bigint() }}) as amount_captured_minor,
        cast(null as {{ dbt.type_bigint() }}) as amount_refunded_minor,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at,
        _seq,
        is_deleted
            or (payment_provider is null and payment_status is null and payment_reference is null)
            as is_deleted
    from changed_orders
),

stripe_payments as (
    select
        tenant_id,
        payment_id,
        order_id,
        'stripe' as payment_source,
        provider,
        status,
        provider_status,
        payment_id as reference,
        failure_code,
        currency,
        amount_minor,
        amount_captured_minor,
        amount_refunded_minor,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at,
        _seq,
        is_deleted
    from payment_states
),

final as (
    select
        -- ids
        tenant_id,
        payment_id,
        order_id,
        payment_source,
        provider,
        status,
        reference,
        -- amounts
        currency,
        amount_minor,
        -- timestamps
        created_at,
        updated_at,
        -- lineage
        _batch_id,
        _ingested_at,
        -- provider payments only (NULL for payment_source 'order')
        provider_status,
        failure_code,
        amount_captured_minor,
        amount_refunded_minor,
        _seq,
        is_deleted
    from (
        select * from order_payments
        union all
        select * from stripe_payments
    ) as payments
)

{{ emit_changes('final') }}
