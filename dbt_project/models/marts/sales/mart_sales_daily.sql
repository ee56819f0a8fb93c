with orders as (
    select
        *,
        created_date as sales_date
    from {{ ref('int_orders__localized') }}
    where counts_in_sales
),

refunds as (
    select
        *,
        created_date as sales_date
    from {{ ref('int_refunds__localized') }}
),

tenants as (
    select * from {{ ref('stg_control__tenants') }}
),

{{ sales_rollup(['sales_date']) }}

select * from final
