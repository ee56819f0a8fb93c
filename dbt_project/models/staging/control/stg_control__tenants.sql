{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key='tenant_id',
    meta={'record_changes': true, 'test_changed_keys': true},
) }}
{%- set defaults = var('tenant_setting_defaults') -%}

-- Incremental only for its change log: every run offers every tenant, and the strategy keeps
-- the tenants whose resolved settings did not change out of the log. Models whose rows keep
-- the settings they were computed with recompute the tenants that log names
-- (`tenants_with_new_settings`) instead of comparing all their rows with this table.

with source as (
    select * from {{ source('control', 'tenants') }}
),

-- A tenant stores only the settings it overrode; every other key takes the product default.
resolved as (
    select
        -- ids
        cast(tenant_id as {{ dbt.type_bigint() }}) as tenant_id,
        slug,
        timezone,
        currency,
        -- thresholds
        coalesce(
            cast({{ json_text('settings', 'high_value_order_minor') }} as {{ dbt.type_bigint() }}),
            {{ defaults.high_value_order_minor }}
        ) as high_value_order_minor,
        coalesce(
            cast({{ json_text('settings', 'vip_lifetime_value_minor') }} as {{ dbt.type_bigint() }}),
            {{ defaults.vip_lifetime_value_minor }}
        ) as vip_lifetime_value_minor,
        coalesce(
            cast({{ json_text('settings', 'new_customer_days') }} as {{ dbt.type_int() }}),
            {{ defaults.new_customer_days }}
        ) as new_customer_days,
        coalesce(
            cast({{ json_text('settings', 'inactive_customer_days') }} as {{ dbt.type_int() }}),
            {{ defaults.inactive_customer_days }}
        ) as inactive_customer_days,
        cast(coalesce(
            cast({{ json_text('settings', 'price_anomaly_threshold_pct') }} as decimal(12, 4)),
            {{ defaults.price_anomaly_threshold_pct }}
        ) as decimal(12, 4)) as price_anomaly_threshold_pct,
        coalesce(
            cast({{ json_text('settings', 'low_stock_default') }} as {{ dbt.type_bigint() }}),
            {{ defaults.low_stock_default }}
        ) as low_stock_default,
        coalesce(
            cast({{ json_text('settings', 'rfm_window_days') }} as {{ dbt.type_int() }}),
            {{ defaults.rfm_window_days }}
        ) as rfm_window_days
    from source
),

-- Tombstones for tenants gone from the control plane.
final as (
    {{ with_tombstones('resolved', this, ['tenant_id'], alias='held') }}
)

{{ emit_changes('final') }}
