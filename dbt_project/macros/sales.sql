{#-
  The shared body of mart_sales_daily and mart_sales_hourly. The calling model defines `orders`
  (int_orders__localized rows that count in sales), `refunds` (int_refunds__localized) and
  `tenants`, each with the bucket columns; this adds the CTEs up to `final`.

  Definitions (in the tenant's currency, integer minor units):
    gross = sum(quantity * unit price) of the lines; discounts = line discounts + order discounts;
    total = gross - discounts + tax + shipping (the orders' totals);
    refunds = succeeded refunds made in the bucket (cash basis: by refund time, not order time);
    net revenue = total - refunds; average order value = total / orders, rounded half away from
    zero to a whole minor unit.
  A customer is new in the bucket holding their first counted order, returning otherwise;
  guest orders count as orders but not as customers.
-#}
{% macro sales_rollup(bucket_columns) -%}
{%- set buckets = bucket_columns | join(', ') -%}
order_totals as (
    select
        tenant_id,
        {{ buckets }},
        count(*) as order_count,
        {{ int_sum('units') }} as units,
        {{ int_sum('gross_minor') }} as gross_minor,
        {{ int_sum('discounts_minor') }} as discounts_minor,
        {{ int_sum('tax_minor') }} as tax_minor,
        {{ int_sum('shipping_minor') }} as shipping_minor,
        {{ int_sum('total_minor') }} as total_minor,
        count(distinct customer_id) as customer_count,
        count(distinct case when is_first_order then customer_id end) as new_customer_count,
        {{ int_sum('case when customer_id is null then 1 else 0 end') }} as guest_order_count,
        {{ int_sum('case when is_high_value then 1 else 0 end') }} as high_value_order_count
    from orders
    group by tenant_id, {{ buckets }}
),

refund_totals as (
    select
        tenant_id,
        {{ buckets }},
        count(*) as refund_count,
        {{ int_sum('amount_minor') }} as refunds_minor
    from refunds
    group by tenant_id, {{ buckets }}
),

bucket_keys as (
    select tenant_id, {{ buckets }} from order_totals
    union
    select tenant_id, {{ buckets }} from refund_totals
),

rolled_up as (
    select
        bucket_keys.tenant_id,
        {%- for column in bucket_columns %}
        bucket_keys.{{ column }},
        {%- endfor %}
        coalesce(order_totals.order_count, 0) as order_count,
        coalesce(order_totals.units, 0) as units,
        coalesce(order_totals.gross_minor, 0) as gross_minor,
        coalesce(order_totals.discounts_minor, 0) as discounts_minor,
        coalesce(order_totals.tax_minor, 0) as tax_minor,
        coalesce(order_totals.shipping_minor, 0) as shipping_minor,
        coalesce(order_totals.total_minor, 0) as total_minor,
        coalesce(refund_totals.refund_count, 0) as refund_count,
        coalesce(refund_totals.refunds_minor, 0) as refunds_minor,
        coalesce(order_totals.customer_count, 0) as customer_count,
        coalesce(order_totals.new_customer_count, 0) as new_customer_count,
        coalesce(order_totals.guest_order_count, 0) as guest_order_count,
        coalesce(order_totals.high_value_order_count, 0) as high_value_order_count
    from bucket_keys
    left join order_totals
        on bucket_keys.tenant_id = order_totals.tenant_id
        {%- for column in bucket_columns %}
        and bucket_keys.{{ column }} = order_totals.{{ column }}
        {%- endfor %}
    left join refund_totals
        on bucket_keys.tenant_id = refund_totals.tenant_id
        {%- for column in bucket_columns %}
        and bucket_keys.{{ column }} = refund_totals.{{ column }}
        {%- endfor %}
),

final as (
    select
        -- ids
        rolled_up.tenant_id,
        {%- for column in bucket_columns %}
        rolled_up.{{ column }},
        {%- endfor %}
        -- counts
        order_count,
        units,
        customer_count,
        new_customer_count,
        customer_count - new_customer_count as returning_customer_count,
        guest_order_count,
        high_value_order_count,
        refund_count,
        -- amounts
        tenants.currency,
        gross_minor,
        discounts_minor,
        tax_minor,
        shipping_minor,
        total_minor,
        refunds_minor,
        total_minor - refunds_minor as net_revenue_minor,
        {{ minor_average('total_minor', 'order_count') }} as average_order_value_minor
    from rolled_up
    inner join tenants
        on rolled_up.tenant_id = tenants.tenant_id
)
{%- endmacro %}
