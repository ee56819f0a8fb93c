-- Hours are wall-clock hours in the tenant's zone: on the night clocks go back, the repeated
-- hour's sales share one row; on the night they go forward, the skipped hour has none.
with orders as (
    select
        *,
        created_date as sales_date,
        {{ dbt.date_trunc('hour', 'created_local_at') }} as sales_hour
    from {{ ref('int_orders__localized') }}
    where counts_in_sales
),

refunds as (
    select
        *,
        created_date as sales_date,
        {{ dbt.date_trunc('hour', 'created_local_at') }} as sales_hour
    from {{ ref('int_refunds__localized') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

{{ sales_rollup(['sales_date', 'sales_hour']) }}

select * from final
