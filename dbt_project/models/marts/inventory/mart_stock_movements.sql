-- Stock movements per SKU and tenant-local day. Opening and closing levels come from the
-- running level (int_stock_events__leveled), so net_change includes the effect of stock counts;
-- the unit columns add up deltas only.
with levels as (
    select * from {{ ref('int_stock_events__leveled') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

dated as (
    select
        levels.*,
        {{ local_date('levels.occurred_at', 'tenants.timezone') }} as movement_date
    from levels
    inner join tenants
        on levels.tenant_id = tenants.tenant_id
),

ordered as (
    select
        *,
        case when kind = 'delta' then quantity else 0 end as delta,
        row_number() over (
            partition by tenant_id, product_id, variant_id, movement_date
            order by occurred_at, stock_event_id
        ) as position_in_day,
        row_number() over (
            partition by tenant_id, product_id, variant_id, movement_date
            order by occurred_at desc, stock_event_id desc
        ) as position_from_end
    from dated
),

final as (
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
        max(case when position_in_day = 1 then level_before end) as opening_level,
        {{ int_sum('case when delta > 0 then delta else 0 end') }} as units_in,
        {{ int_sum('case when delta < 0 then -delta else 0 end') }} as units_out,
        {{ int_sum("case when reason = 'sale' then -delta else 0 end") }} as sold_units,
        {{ int_sum("case when reason = 'restock' then delta else 0 end") }} as restocked_units,
        {{ int_sum("case when reason = 'return' then delta else 0 end") }} as returned_units,
        {{ int_sum("case when reason = 'damage' then -delta else 0 end") }} as damaged_units,
        {{ int_sum("case when reason in ('adjustment', 'correction') then delta else 0 end") }}
            as adjusted_units,
        max(case when position_from_end = 1 then level_after end) as closing_level,
        max(case when position_from_end = 1 then level_after end)
            - max(case when position_in_day = 1 then level_before end) as net_change
    from ordered
    group by tenant_id, product_id, variant_id, movement_date
)

select * from final
