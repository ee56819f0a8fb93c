"""Product and customer analytics for dashboards: top products, category split, new vs
returning customers, cohorts and RFM segments.

Products read ``mart_product_performance`` and ``mart_category_summary`` (all counted orders,
as of the snapshot). Customers read ``mart_sales_daily`` for new vs returning per day in the
range, ``mart_customer_lifetime`` for cohorts (first-order months overlapping the range) and
flags, and ``mart_customer_rfm`` for segment counts. Every mart is one row per product,
category, customer or day: no fact table is read.
"""

from __future__ import annotations

from typing import Any

from warehouse.analytics.exact import average_minor, ratio
from warehouse.analytics.periods import Period
from warehouse.analytics.series import rollup, sum_by_day
from warehouse.marts import TenantMarts

CUSTOMER_DAY_SUMS = (
    "customer_count", "new_customer_count", "returning_customer_count", "guest_order_count",
)  # fmt: skip


def top_products(marts: TenantMarts, limit: int) -> list[dict[str, Any]]:
    """Return the best-selling products by revenue (ties by product id)."""
    return marts.rows(
        """
        select product_id, sku, product_name, category_path, units_sold, order_count,
            revenue_minor, margin_minor, revenue_rank_in_tenant as revenue_rank
        from {performance}
        where units_sold > 0
        order by revenue_minor desc, product_id
        limit ?
        """,
        [limit],
        performance="mart_product_performance",
    )


def product_summary(marts: TenantMarts) -> dict[str, Any]:
    """Return catalogue-wide sales: products, units, revenue and margin where cost is known."""
    row = marts.rows(
        """
        select count(*) as product_count,
            count(*) filter (where units_sold > 0) as sold_product_count,
            coalesce(sum(units_sold), 0)::bigint as units_sold,
            coalesce(sum(revenue_minor), 0)::bigint as revenue_minor,
            coalesce(sum(revenue_minor) filter (where has_cost), 0)::bigint as costed_revenue_minor,
            coalesce(sum(margin_minor), 0)::bigint as margin_minor
        from {performance}
        """,
        performance="mart_product_performance",
    )[0]
    row["margin_rate"] = ratio(row["margin_minor"], row["costed_revenue_minor"])
    return row


def categories(marts: TenantMarts) -> list[dict[str, Any]]:
    """Return every category path with its revenue and share, largest first."""
    return marts.rows(
        """
        select category_path, product_count, sold_product_count, units_sold, order_count,
            revenue_minor, revenue_share, margin_minor, margin_rate
        from {categories}
        order by revenue_minor desc, category_path
        """,
        categories="mart_category_summary",
    )


def product_analytics(marts: TenantMarts, limit: int) -> dict[str, Any]:
    """Return the product dashboard: summary, top products and the category split."""
    return {
        "summary": product_summary(marts),
        "top_products": top_products(marts, limit),
        "categories": categories(marts),
    }


def new_vs_returning(marts: TenantMarts, period: Period) -> dict[str, Any]:
    """Return new and returning customers per day, and the period's totals.

    A customer is new on the day of their first counted order. Summed over days, new customers
    are distinct; returning ones are customer-days (a customer counts once per day ordered).
    """
    by_day = sum_by_day(marts, "mart_sales_daily", "sales_date", CUSTOMER_DAY_SUMS, period)
    days = rollup(by_day, CUSTOMER_DAY_SUMS, period, "day")
    for day in days:
        day["date"] = day.pop("bucket")
        del day["start_date"], day["end_date"]
    return {
        "days": days,
        "new_customers": sum(d["new_customer_count"] for d in days),
        "returning_customer_days": sum(d["returning_customer_count"] for d in days),
        "guest_orders": sum(d["guest_order_count"] for d in days),
    }


def cohorts(marts: TenantMarts, period: Period) -> list[dict[str, Any]]:
    """Return each first-order month overlapping the period: size, orders and lifetime value."""
    rows = marts.rows(
        """
        select cohort_month, count(*) as customers, sum(order_count)::bigint as orders,
            sum(lifetime_value_minor)::bigint as lifetime_value_minor,
            count(*) filter (where is_vip) as vip_customers,
            count(*) filter (where is_inactive) as inactive_customers
        from {lifetime}
        where cohort_month between date_trunc('month', ?::date) and ?
        group by cohort_month
        order by cohort_month
        """,
        [period.start, period.end],
        lifetime="mart_customer_lifetime",
    )
    for row in rows:
        row["average_lifetime_value_minor"] = average_minor(
            row["lifetime_value_minor"], row["customers"]
        )
    return rows


def customer_flags(marts: TenantMarts) -> dict[str, int]:
    """Return how many customers there are, have ordered, and are VIP, new or inactive."""
    return marts.rows(
        """
        select count(*) as customers, count(*) filter (where order_count > 0) as with_orders,
            count(*) filter (where is_vip) as vip, count(*) filter (where is_new) as new,
            count(*) filter (where is_inactive) as inactive
        from {lifetime}
        """,
        lifetime="mart_customer_lifetime",
    )[0]


def segments(marts: TenantMarts) -> list[dict[str, Any]]:
    """Return each RFM segment with its customers and net spend, largest first."""
    rows = marts.rows(
        """
        select segment, count(*) as customers, sum(monetary_minor)::bigint as monetary_minor
        from {rfm}
        group by segment
        order by customers desc, segment
        """,
        rfm="mart_customer_rfm",
    )
    for row in rows:
        row["average_monetary_minor"] = average_minor(row["monetary_minor"], row["customers"])
    return rows


def customer_analytics(marts: TenantMarts, period: Period) -> dict[str, Any]:
    """Return the customer dashboard: new vs returning, cohorts, flags and RFM segments."""
    return {
        "new_vs_returning": new_vs_returning(marts, period),
        "cohorts": cohorts(marts, period),
        "flags": customer_flags(marts),
        "segments": segments(marts),
    }
