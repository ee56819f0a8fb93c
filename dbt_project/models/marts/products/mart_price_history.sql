-- The price series of each product (or variant) from price events, with the change from the
-- previous observation. A change is an anomaly when its size is at or above the tenant's
-- price_anomaly_threshold_pct of the previous price (either direction).
with price_events as (
    select * from {{ ref('stg_shop__price_events') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

sequenced as (
    select
        *,
        lag(price_minor) over (
            partition by tenant_id, product_id, variant_id
            order by occurred_at, price_event_id
        ) as previous_price_minor
    from price_events
),

final as (
    select
        -- ids
        sequenced.tenant_id,
        sequenced.price_event_id,
        sequenced.product_id,
        sequenced.variant_id,
        -- amounts
        sequenced.currency,
        sequenced.price_minor,
        sequenced.previous_price_minor,
        sequenced.price_minor - sequenced.previous_price_minor as change_minor,
        {{ ratio(
            '100 * (sequenced.price_minor - sequenced.previous_price_minor)',
            'sequenced.previous_price_minor',
            2
        ) }} as change_pct,
        -- flags
        coalesce(
            sequenced.previous_price_minor > 0
            and abs(sequenced.price_minor - sequenced.previous_price_minor) * 100
                >= tenants.price_anomaly_threshold_pct * sequenced.previous_price_minor,
            false
        ) as is_anomaly,
        -- timestamps
        sequenced.occurred_at,
        {{ local_date('sequenced.occurred_at', 'tenants.timezone') }} as price_date
    from sequenced
    inner join tenants
        on sequenced.tenant_id = tenants.tenant_id
)

select * from final
