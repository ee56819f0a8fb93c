{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id', 'variant_id'],
) }}
-- depends_on: {{ ref('base_shop__price_events') }}

-- The price series of each product (or variant) from price events, with the change from the
-- previous observation. A change is an anomaly when its size is at or above the tenant's
-- price_anomaly_threshold_pct of the previous price (either direction).
-- Incremental by series (the unit of change, as an event changes its successor's row): a series
-- with a new, changed, moved or deleted event since the last run is recomputed whole, and so is
-- every series of a tenant whose time zone or threshold changed; a series left without events
-- leaves a tombstone.
with tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

{% if is_incremental() -%}
event_versions as (
    select tenant_id, price_event_id, product_id, variant_id, is_deleted
    from {{ ref('base_shop__price_events') }}
    where {{ landed_since_watermark() }}
),

changed_tenants as (
    {%- set new_settings = tenants_with_new_settings() %}
    {%- if new_settings %}
    select tenant_id from {{ new_settings }}
    {%- else %}
    select held.tenant_id
    from (select distinct tenant_id, timezone, anomaly_threshold_pct from {{ this }}) as held
    left join tenants
        on held.tenant_id = tenants.tenant_id
    where tenants.tenant_id is null
        or held.timezone <> tenants.timezone
        or held.anomaly_threshold_pct <> tenants.price_anomaly_threshold_pct
    {%- endif %}
),

affected_series as (
    -- the series new versions belong to
    select tenant_id, product_id, variant_id
    from event_versions
    where not is_deleted

    union

    -- the series changed events belonged to until now (moved or deleted events)
    select held.tenant_id, held.product_id, held.variant_id
    from {{ this }} as held
    where {{ key_among(['tenant_id', 'price_event_id'], 'event_versions', 'held') }}

    union

    select held.tenant_id, held.product_id, held.variant_id
    from {{ this }} as held
    where {{ key_among(['tenant_id'], 'changed_tenants', 'held') }}
),

-- `exists` rather than a join: the affected set is the side to hash, and when it is empty
-- DuckDB then never scans the events.
price_events as (
    select events.*
    from {{ ref('stg_shop__price_events') }} as events
    where {{ key_among(['tenant_id', 'product_id', 'variant_id'], 'affected_series', 'events') }}
),
{%- else -%}
price_events as (
    select * from {{ ref('stg_shop__price_events') }}
),
{%- endif %}

sequenced as (
    select
        *,
        lag(price_minor) over (
            partition by tenant_id, product_id, variant_id
            order by occurred_at, price_event_id
        ) as previous_price_minor
    from price_events
),

series_rows as (
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
        {{ local_date('sequenced.occurred_at', 'tenants.timezone') }} as price_date,
        -- the tenant settings the row was computed with, and lineage
        tenants.price_anomaly_threshold_pct as anomaly_threshold_pct,
        tenants.timezone,
        sequenced._ingested_at
    from sequenced
    inner join tenants
        on sequenced.tenant_id = tenants.tenant_id
),

-- Tombstones for series left without events.
final as (
    {{ with_tombstones(
        'series_rows', 'affected_series', ['tenant_id', 'product_id', 'variant_id'], kept='price_events',
    ) }}
)

{{ emit_changes('final') }}
