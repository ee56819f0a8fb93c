{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'session_id'],
    meta={'record_changes': true},
) }}

-- One row per storefront session: when it started and which funnel events it had. A table so
-- the funnel need not group every event of the ledger each build. Incremental by session: the
-- sessions the events changed in this build touch (stg_shop__events__changes, old and new
-- rows) are recomputed whole, and a session left without events leaves a tombstone. Its own
-- changes are recorded for mart_event_funnel.
with all_events as (
    select * from {{ ref('stg_shop__events') }}
),

{% if change_log_usable() -%}
affected_sessions as (
    select distinct tenant_id, session_id
    from {{ change_log(ref('stg_shop__events')) }}
),

-- `exists` rather than a join: the affected set is the side to hash (none: no scan at all).
events as (
    select all_events.*
    from all_events
    where {{ key_among(['tenant_id', 'session_id'], 'affected_sessions', 'all_events') }}
),
{%- elif is_incremental() -%}
-- After a failed build the change log is incomplete: every session, held or current.
affected_sessions as (
    select tenant_id, session_id from all_events
    union
    select tenant_id, session_id from {{ this }}
),

events as (
    select * from all_events
),
{%- else -%}
events as (
    select * from all_events
),
{%- endif %}

sessions as (
    select
        -- ids
        tenant_id,
        session_id,
        -- steps reached (0 or 1)
        max(case when event_type = 'product_viewed' then 1 else 0 end) as has_view,
        max(case when event_type = 'product_added_to_cart' then 1 else 0 end) as has_cart,
        max(case when event_type = 'checkout_started' then 1 else 0 end) as has_checkout,
        max(case when event_type = 'order_completed' then 1 else 0 end) as has_order,
        -- timestamps
        min(occurred_at) as started_at,
        -- lineage
        max(_ingested_at) as _ingested_at
    from events
    group by tenant_id, session_id
),

-- Tombstones for sessions no event names any more.
final as (
    {{ with_tombstones('sessions', 'affected_sessions', ['tenant_id', 'session_id'], kept='events') }}
)

{{ emit_changes('final') }}
