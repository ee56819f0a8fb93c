{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'funnel_date'],
) }}

-- The storefront funnel per tenant-local day: product view -> add to cart -> checkout -> order.
-- A session belongs to the day of its first event and reaches a step when it had that step's
-- event and reached every step before it (in any order), so each step is a subset of the last.
-- Incremental by day: the days of the sessions int_sessions__summarized recomputed in this
-- build (before and after), and every day of a tenant whose time zone changed, are recounted;
-- a day left without sessions leaves a tombstone.
with tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

all_sessions as (
    select
        sessions.*,
        tenants.timezone,
        {{ local_date('sessions.started_at', 'tenants.timezone') }} as funnel_date
    from {{ ref('int_sessions__summarized') }} as sessions
    inner join tenants
        on sessions.tenant_id = tenants.tenant_id
),

{% if is_incremental() -%}
{%- set new_settings = tenants_with_new_settings() %}
affected_days as (
    {%- if change_log_usable() %}
    select changed.tenant_id, {{ local_date('changed.started_at', 'tenants.timezone') }} as funnel_date
    from {{ change_log(ref('int_sessions__summarized')) }} as changed
    inner join tenants
        on changed.tenant_id = tenants.tenant_id

    union

    select held.tenant_id, held.funnel_date
    from {{ this }} as held
    {%- if new_settings %}
    where {{ key_among(['tenant_id'], new_settings, 'held') }}
    {%- else %}
    left join tenants
        on held.tenant_id = tenants.tenant_id
    where tenants.tenant_id is null
        or held.timezone <> tenants.timezone
    {%- endif %}
    {%- else %}
    -- After a failed build the change log is incomplete: every day, held or current.
    select tenant_id, funnel_date from all_sessions

    union

    select tenant_id, funnel_date from {{ this }}
    {%- endif %}
),

-- `exists` rather than a join: the affected set is the side to hash (none: no scan at all).
sessions as (
    select all_sessions.*
    from all_sessions
    where {{ key_among(['tenant_id', 'funnel_date'], 'affected_days', 'all_sessions') }}
),
{%- else -%}
sessions as (
    select * from all_sessions
),
{%- endif %}

steps as (
    select
        tenant_id,
        funnel_date,
        timezone,
        _ingested_at,
        has_view as reached_view,
        has_view * has_cart as reached_cart,
        has_view * has_cart * has_checkout as reached_checkout,
        has_view * has_cart * has_checkout * has_order as reached_order
    from sessions
),

daily as (
    select
        tenant_id,
        funnel_date,
        count(*) as session_count,
        {{ int_sum('reached_view') }} as product_view_sessions,
        {{ int_sum('reached_cart') }} as add_to_cart_sessions,
        {{ int_sum('reached_checkout') }} as checkout_sessions,
        {{ int_sum('reached_order') }} as order_sessions,
        max(timezone) as timezone,
        max(_ingested_at) as _ingested_at
    from steps
    group by tenant_id, funnel_date
),

day_rows as (
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
        {{ ratio('order_sessions', 'product_view_sessions') }} as view_to_order_rate,
        -- the zone funnel_date was computed in, and lineage
        timezone,
        _ingested_at
    from daily
),

-- Tombstones for days no session started on any more.
final as (
    {{ with_tombstones('day_rows', 'affected_days', ['tenant_id', 'funnel_date'], kept='sessions') }}
)

{{ emit_changes('final') }}
