{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'product_id', 'variant_id'],
) }}
{%- set event_order = ['occurred_at', 'stock_event_id'] %}

-- Stock movements per SKU and tenant-local day. Opening and closing levels come from the
-- running level (int_stock_events__leveled), so net_change includes the effect of stock counts;
-- the unit columns add up deltas only.
-- Incremental by SKU: the SKUs int_stock_events__leveled recomputed in this build (its change
-- log), and every SKU of a tenant whose time zone changed, are recomputed whole; a SKU left
-- without events leaves a tombstone.
with all_levels as (
    select * from {{ ref('int_stock_events__leveled') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

{% if is_incremental() -%}
{%- set new_settings = tenants_with_new_settings() %}
affected_skus as (
    {%- if change_log_usable() %}
    select tenant_id, product_id, variant_id
    from {{ change_log(ref('int_stock_events__leveled')) }}

    union

    select held.tenant_id, held.product_id, held.variant_id
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
    -- After a failed build the change log is incomplete: every SKU, held or current.
    select tenant_id, product_id, variant_id from all_levels

    union

    select tenant_id, product_id, variant_id from {{ this }}
    {%- endif %}
),

-- `exists` rather than a join: the affected set is the side to hash (none: no scan at all).
levels as (
    select all_levels.*
    from all_levels
    where {{ key_among(['tenant_id', 'product_id', 'variant_id'], 'affected_skus', 'all_levels') }}
),
{%- else -%}
levels as (
    select * from all_levels
),
{%- endif %}

dated as (
    select
        levels.*,
        tenants.timezone,
        {{ local_date('levels.occurred_at', 'tenants.timezone') }} as movement_date
    from levels
    inner join tenants
        on levels.tenant_id = tenants.tenant_id
),

deltas as (
    select
        *,
        case when kind = 'delta' then quantity else 0 end as delta
    from dated
),

day_rows as (
    select
        -- ids
        tenant_id,
        product_id,
        variant_id,
        movement_date,
        -- counts
        count(*) as event_count,
        {{ int_sum("case when kind = 'set' then 1 else 0 end") }} as stock_count_events,
        -- quantities
        {{ value_at_first('level_before', event_order) }} as opening_level,
        {{ int_sum('case when delta > 0 then delta else 0 end') }} as units_in,
        {{ int_sum('case when delta < 0 then -delta else 0 end') }} as units_out,
        {{ int_sum("case when reason = 'sale' then -delta else 0 end") }} as sold_units,
        {{ int_sum("case when reason = 'restock' then delta else 0 end") }} as restocked_units,
        {{ int_sum("case when reason = 'return' then delta else 0 end") }} as returned_units,
        {{ int_sum("case when reason = 'damage' then -delta else 0 end") }} as damaged_units,
        {{ int_sum("case when reason in ('adjustment', 'correction') then delta else 0 end") }}
            as adjusted_units,
        {{ value_at_last('level_after', event_order) }} as closing_level,
        {{ value_at_last('level_after', event_order) }}
            - {{ value_at_first('level_before', event_order) }} as net_change,
        -- the zone movement_date was computed in, and lineage
        max(timezone) as timezone,
        max(_ingested_at) as _ingested_at
    from deltas
    group by tenant_id, product_id, variant_id, movement_date
),

-- Tombstones for SKUs no stock event names any more.
final as (
    {{ with_tombstones(
        'day_rows', 'affected_skus', ['tenant_id', 'product_id', 'variant_id'], kept='levels',
    ) }}
)

{{ emit_changes('final') }}
