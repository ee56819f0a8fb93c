{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id', 'variant_id'],
    meta={'record_changes': true, 'test_changed_keys': true},
) }}

-- Each SKU's stock ledger in one row, for mart_stock_levels: its current level (the latest
-- event's level_after), how often it ran out (a level going from above 0 to 0 or below), when
-- it last did and when it last moved. Incremental by SKU: a run recomputes the SKUs whose
-- leveled events changed (int_stock_events__leveled__changes, old and new rows), and a SKU left
-- without events leaves a tombstone. After a failed build the change log is incomplete: every
-- SKU, held or current.
with

{% if is_incremental() -%}
affected_skus as (
    {%- if change_log_usable() %}
    select distinct tenant_id, product_id, variant_id
    from {{ change_log(ref('int_stock_events__leveled')) }}
    {%- else %}
    select tenant_id, product_id, variant_id from {{ ref('int_stock_events__leveled') }}

    union

    select tenant_id, product_id, variant_id from {{ this }}
    {%- endif %}
),

-- `exists` rather than a join: the affected SKUs are the side to hash.
levels as (
    select *
    from {{ ref('int_stock_events__leveled') }} as levels
    where {{ key_among(['tenant_id', 'product_id', 'variant_id'], 'affected_skus', 'levels') }}
),
{%- else -%}
levels as (
    select * from {{ ref('int_stock_events__leveled') }}
),
{%- endif %}

ledger as (
    select
        tenant_id,
        product_id,
        variant_id,
        max(case when is_latest then level_after end) as ledger_level,
        {{ int_sum('case when level_before > 0 and level_after <= 0 then 1 else 0 end') }} as stockout_count,
        max(case when level_before > 0 and level_after <= 0 then occurred_at end)
            as last_stockout_at,
        max(occurred_at) as last_movement_at
    from levels
    group by tenant_id, product_id, variant_id
),

-- Tombstones for SKUs no stock event names any more.
final as (
    {{ with_tombstones('ledger', 'affected_skus', ['tenant_id', 'product_id', 'variant_id']) }}
)

{{ emit_changes('final') }}
