"""Time series over day marts: sales by day, week or month, and the event funnel by day.

Both read one small mart (one row per tenant-local day) filtered to the range, so an answer
costs the same whatever the size of the fact tables. Buckets without data are filled with
zeros so a chart's x-axis has no holes; a week starts on Monday, and the first and last
buckets report the days of the range they actually cover.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from warehouse.analytics.exact import average_minor, ratio
from warehouse.analytics.periods import Period
from warehouse.marts import TenantMarts

INTERVALS = ("day", "week", "month")
SALES_SUMS = (
    "order_count", "units", "new_customer_count", "guest_order_count", "refund_count",
    "gross_minor", "discounts_minor", "tax_minor", "shipping_minor", "total_minor",
    "refunds_minor", "net_revenue_minor",
)  # fmt: skip
FUNNEL_STEPS = (
    "session_count", "product_view_sessions", "add_to_cart_sessions", "checkout_sessions",
    "order_sessions",
)  # fmt: skip
# (rate, numerator, denominator), as mart_event_funnel defines them.
FUNNEL_RATES = (
    ("view_to_cart_rate", "add_to_cart_sessions", "product_view_sessions"),
    ("cart_to_checkout_rate", "checkout_sessions", "add_to_cart_sessions"),
    ("checkout_to_order_rate", "order_sessions", "checkout_sessions"),
    ("view_to_order_rate", "order_sessions", "product_view_sessions"),
)


def bucket_of(day: date, interval: str) -> date:
    """Return the first day of the bucket holding ``day``."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def days_of(period: Period) -> Iterator[date]:
    """Yield every day of the period in order."""
    for offset in range(period.days):
        yield period.start + timedelta(days=offset)


def sum_by_day(
    marts: TenantMarts, mart: str, day_column: str, columns: tuple[str, ...], period: Period
) -> dict[date, dict[str, int]]:
    """Return each day's row of a day mart within the period (only our own column names)."""
    sums = ", ".join(f"{c}::bigint as {c}" for c in columns)
    rows = marts.rows(
        f"select {day_column} as day, {sums} from {{m}} where {day_column} between ? and ?",
        [period.start, period.end],
        m=mart,
    )
    return {row.pop("day"): row for row in rows}


def rollup(
    by_day: dict[date, dict[str, int]], columns: tuple[str, ...], period: Period, interval: str
) -> list[dict[str, Any]]:
    """Sum daily rows into gap-free buckets clipped to the period."""
    buckets: dict[date, dict[str, Any]] = {}
    for day in days_of(period):
        key = bucket_of(day, interval)
        bucket = buckets.setdefault(
            key, {"bucket": key, "start_date": day, **dict.fromkeys(columns, 0)}
        )
        bucket["end_date"] = day
        for column, value in by_day.get(day, {}).items():
            bucket[column] += value or 0
    return list(buckets.values())


def _sales_figures(row: dict[str, Any]) -> dict[str, Any]:
    row["average_order_value_minor"] = average_minor(row["total_minor"], row["order_count"])
    return row


def sales_series(marts: TenantMarts, period: Period, interval: str) -> dict[str, Any]:
    """Return sales per bucket and for the whole period, from ``mart_sales_daily``."""
    by_day = sum_by_day(marts, "mart_sales_daily", "sales_date", SALES_SUMS, period)
    buckets = [_sales_figures(b) for b in rollup(by_day, SALES_SUMS, period, interval)]
    totals = {c: sum(b[c] for b in buckets) for c in SALES_SUMS}
    return {"interval": interval, "buckets": buckets, "totals": _sales_figures(totals)}


def _funnel_figures(row: dict[str, Any]) -> dict[str, Any]:
    for rate, numerator, denominator in FUNNEL_RATES:
        row[rate] = ratio(row[numerator], row[denominator])
    return row


def funnel_series(marts: TenantMarts, period: Period) -> dict[str, Any]:
    """Return funnel sessions and step rates per day and for the period (``mart_event_funnel``).

    Period rates divide the summed steps, never average the daily rates.
    """
    by_day = sum_by_day(marts, "mart_event_funnel", "funnel_date", FUNNEL_STEPS, period)
    days = [_funnel_figures(b) for b in rollup(by_day, FUNNEL_STEPS, period, "day")]
    totals = {c: sum(d[c] for d in days) for c in FUNNEL_STEPS}
    for day in days:
        day["date"] = day.pop("bucket")
        del day["start_date"], day["end_date"]
    return {"days": days, "totals": _funnel_figures(totals)}
