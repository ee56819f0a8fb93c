-- An incremental table rather than a view: this append-mostly ledger is the largest raw
-- entity, and re-deduplicating all of it for every reader and test would cost each build the
-- whole history. Changes are applied like the facts' (macros/incremental.sql), and recorded so
-- int_stock_events__leveled recomputes only the SKUs they touch.
{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'stock_event_id'],
    meta={'record_changes': true},
) }}

-- Not materialized: latest_version reads it three times (keys seen twice, the rest, the
-- repeats ranked), and re-reading the Parquet costs less than holding the ledger in memory.
with versions as not materialized (
    select * from {{ ref('base_shop__stock_events') }}
    where {{ landed_since_watermark() }}
),

current_versions as (
    {{ latest_version('versions', ['tenant_id', 'stock_event_id']) }}
),

final as (
    select
        tenant_id,
        stock_event_id,
        product_id,
        variant_id,
        kind,
        reason,
        quantity,
        occurred_at,
        _batch_id,
        _ingested_at,
        is_deleted
    from current_versions
)

{{ emit_changes('final') }}
