-- The storefront funnel per tenant-local day: product view -> add to cart -> checkout -> order.
-- A session belongs to the day of its first event and reaches a step when it had that step's
-- event and reached every step before it (in any order), so each step is a subset of the last.
with events as (
    select * from {{ ref('stg_shop__events') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

sessions as (
    select
        tenant_id,
        session_id,
        min(occurred_at) as started_at,
        max(case when event_type = 'product_viewed' then 1 else 0 end) as has_view,
        max(case when event_type = 'product_added_to_cart' then 1 else 0 end) as has_cart,
        max(case when event_type = 'checkout_started' then 1 else 0 end) as has_checkout,
        max(case when event_type = 'order_completed' then 1 else 0 end) as has_order
    from events
    group by tenant_id, session_id
),

steps as (
    select
        sessions.tenant_id,
        {{ local_date('sessions.started_at', 'tenants.timezone') }} as funnel_date,
        has_view as reached_view,
        has_view * has_cart as reached_cart,
        has_view * has_cart * has_checkout as reached_checkout,
        has_view * has_cart * has_checkout * has_order as reached_order
    from sessions
    inner join tenants
        on sessions.tenant_id = tenants.tenant_id
),

daily as (
    select
        tenant_id,
        funnel_date,
        count(*) as session_count,
        {{ int_sum('reached_view') }} as product_view_sessions,
        {{ int_sum('reached_cart') }} as add_to_cart_sessions,
        {{ int_sum('reached_checkout') }} as checkout_sessions,
        {{ int_sum('reached_order') }} as order_sessions
    from steps
    group by tenant_id, funnel_date
),

final as (
    select
        -- ids
        tenant_id,
        funnel_date,
        -- counts
        session_count,
        product_view_sessions,
        add_to_cart_sessions,
        checkout_sessions,
        order_sessions,
        -- rates
        {{ ratio('add_to_cart_sessions', 'product_view_sessions') }} as view_to_cart_rate,
        {{ ratio('checkout_sessions', 'add_to_cart_sessions') }} as cart_to_checkout_rate,
        {{ ratio('order_sessions', 'checkout_sessions') }} as checkout_to_order_rate,
        {{ ratio('order_sessions', 'product_view_sessions') }} as view_to_order_rate
    from daily
)

select * from final
