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


{#-
  The incremental sales marts recompute whole tenant-local days. Those a run touches:
    * the days of the orders int_orders__localized replaced or inserted (their days before and
      after: its change log keeps both rows);
    * the days of the refunds fct_refunds replaced or inserted, and of every refund of those
      orders (a refund counts only while its order does);
    * every day held for a tenant whose zone or currency changed, or that is gone.
  After a failed build the change logs are incomplete: every day, held or current. The calling
  model defines `tenants`, `all_orders` and `all_refunds` (with `sales_date`).
-#}
{% macro sales_affected_days() -%}
    {%- set changed_orders = change_log(ref('int_orders__localized')) -%}
    {%- if change_log_usable() %}
    select tenant_id, created_date as sales_date
    from {{ changed_orders }}

    union

    select
        refunds.tenant_id,
        {{ local_date('refunds.created_at', 'tenants.timezone') }} as sales_date
    from {{ change_log(ref('fct_refunds')) }} as refunds
    inner join tenants
        on refunds.tenant_id = tenants.tenant_id

    union

    select
        refunds.tenant_id,
        {{ local_date('refunds.created_at', 'tenants.timezone') }} as sales_date
    from {{ ref('fct_refunds') }} as refunds
    inner join tenants
        on refunds.tenant_id = tenants.tenant_id
    where {{ key_among(['tenant_id', 'order_id'], changed_orders, 'refunds') }}

    union

    select held.tenant_id, held.sales_date
    from {{ this }} as held
    left join tenants
        on held.tenant_id = tenants.tenant_id
    where tenants.tenant_id is null
        or held.currency <> tenants.currency
        or held.tenant_id in (
            select changed.tenant_id
            from {{ changed_orders }} as changed
            inner join tenants as current_tenants
                on changed.tenant_id = current_tenants.tenant_id
            where changed.timezone <> current_tenants.timezone
        )
    {%- else %}
    select tenant_id, sales_date from all_orders

    union

    select tenant_id, sales_date from all_refunds

    union

    select tenant_id, sales_date from {{ this }}
    {%- endif %}
{%- endmacro %}


{#-
  The inputs of an incremental sales mart: `orders` and `refunds` of the days it recomputes
  (all of them in a full run), after `affected_days` in an incremental one.
-#}
{% macro sales_inputs() -%}
{%- if is_incremental() -%}
affected_days as (
    {{ sales_affected_days() }}
),

-- `exists` rather than joins: the affected days are the side to hash.
orders as (
    select *
    from all_orders
    where {{ key_among(['tenant_id', 'sales_date'], 'affected_days', 'all_orders') }}
),

refunds as (
    select *
    from all_refunds
    where {{ key_among(['tenant_id', 'sales_date'], 'affected_days', 'all_refunds') }}
),
{%- else -%}
orders as (
    select * from all_orders
),

refunds as (
    select * from all_refunds
),
{%- endif %}
{%- endmacro %}


{#-
  The final select of a sales mart. Incremental runs replace whole days (unique key tenant_id,
  sales_date): the recomputed rows, plus a tombstone for each affected day left without any.
-#}
{% macro sales_output() -%}
{%- if is_incremental() %}
{{ with_tombstones('final', 'affected_days', ['tenant_id', 'sales_date']) }}
{%- else %}
select * from final
{%- endif %}
{%- endmacro %}
