{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'sales_date'],
) }}

-- depends_on: {{ ref('fct_refunds') }}

-- Hours are wall-clock hours in the tenant's zone: on the night clocks go back, the repeated
-- hour's sales share one row; on the night they go forward, the skipped hour has none.
-- Incremental by tenant-local day, like mart_sales_daily: a touched day's hours are all
-- replaced (the strategy's key is the day; the mart's key stays tenant_id, sales_hour).
with tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

all_orders as (
    select
        *,
        created_date as sales_date,
        {{ dbt.date_trunc('hour', 'created_local_at') }} as sales_hour
    from {{ ref('int_orders__localized') }}
    where counts_in_sales
),

all_refunds as (
    select
        *,
        created_date as sales_date,
        {{ dbt.date_trunc('hour', 'created_local_at') }} as sales_hour
    from {{ ref('int_refunds__localized') }}
),

{{ sales_inputs() }}

{{ sales_rollup(['sales_date', 'sales_hour']) }}

{{ sales_output() }}
