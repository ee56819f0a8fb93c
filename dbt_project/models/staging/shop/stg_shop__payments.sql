-- Payment versions may land out of order (provider events are retried for days); the current
-- state is chosen by the webhook code's rule, not by landing order (macros/payments.sql).
with versions as (
    select * from {{ ref('base_shop__payments') }}
),

{{ current_payment_states('versions') }},

final as (
    select
        tenant_id,
        payment_id,
        order_id,
        provider,
        status,
        provider_status,
        failure_code,
        currency,
        amount_minor,
        amount_captured_minor,
        amount_refunded_minor,
        created_at,
        updated_at,
        _batch_id,
        _ingested_at
    from payment_states
    where not is_deleted
)

select * from final
