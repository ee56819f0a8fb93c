{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'sales_date'],
) }}

-- depends_on: {{ ref('fct_refunds') }}

-- Incremental by tenant-local day: the days a run touches are recomputed whole
-- (macros/sales.sql, sales_affected_days).
with tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

all_orders as (
    select
        *,
        created_date as sales_date
    from {{ ref('int_orders__localized') }}
    where counts_in_sales
),

all_refunds as (
    select
        *,
        created_date as sales_date
    from {{ ref('int_refunds__localized') }}
),

{{ sales_inputs() }}

{{ sales_rollup(['sales_date']) }}

{{ sales_output() }}
