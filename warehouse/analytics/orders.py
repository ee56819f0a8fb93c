"""Order answers over a date range of the tenant's calendar.

Sales sums come from ``mart_sales_daily`` (one row per tenant-local day, so any whole-day range
is covered exactly): counted orders only (paid, fulfilled, refunded, partially refunded, in the
tenant's currency), refunds by the day they were made. The count of orders by status covers
every order placed in the range, whatever its status or currency, so it reads ``fct_orders``
(the one mart that keeps every status), bounded by the UTC instants of the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from warehouse.analytics.exact import average_minor
from warehouse.contracts.entities import ORDER_STATUSES
from warehouse.errors import ServiceError
from warehouse.marts import TenantMarts

DEFAULT_DAYS = 30
MAX_DAYS = 3660
_SUMS = (
    "order_count", "units", "new_customer_count", "guest_order_count", "refund_count",
    "gross_minor", "discounts_minor", "tax_minor", "shipping_minor", "total_minor",
    "refunds_minor", "net_revenue_minor",
)  # fmt: skip


@dataclass(frozen=True)
class Window:
    """Tenant-local days ``start_date``..``end_date`` (inclusive) and their UTC bounds."""

    start_date: date
    end_date: date
    timezone: str

    @classmethod
    def of(cls, start: date | None, end: date | None, timezone: str) -> Window:
        """Return the window a request names; default: the 30 local days ending today."""
        end = end or datetime.now(ZoneInfo(timezone)).date()
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise ServiceError("start_date", "must be on or before end_date", 422)
        if (end - start).days >= MAX_DAYS:
            raise ServiceError("end_date", f"the range may span at most {MAX_DAYS} days", 422)
        return cls(start, end, timezone)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """Return [start, end) as naive UTC instants (how the marts store timestamps)."""
        zone = ZoneInfo(self.timezone)
        first = datetime.combine(self.start_date, time(), zone)
        after = datetime.combine(self.end_date + timedelta(days=1), time(), zone)
        return (
            first.astimezone(UTC).replace(tzinfo=None),
            after.astimezone(UTC).replace(tzinfo=None),
        )


def order_analytics(marts: TenantMarts, window: Window, currency: str) -> dict[str, Any]:
    """Return orders by status and the sales sums of the window's days."""
    sums = _sales_sums(marts, window)
    return {
        "start_date": window.start_date,
        "end_date": window.end_date,
        "timezone": window.timezone,
        "currency": currency,
        "orders_by_status": _by_status(marts, window),
        **sums,
        "average_order_value_minor": average_minor(sums["total_minor"], sums["order_count"]),
    }


def _sales_sums(marts: TenantMarts, window: Window) -> dict[str, Any]:
    columns = ", ".join(f"coalesce(sum({c}), 0)::bigint as {c}" for c in _SUMS)
    return marts.rows(
        f"select {columns} from {{daily}} where sales_date between ? and ?",
        [window.start_date, window.end_date],
        daily="mart_sales_daily",
    )[0]


def _by_status(marts: TenantMarts, window: Window) -> dict[str, int]:
    rows = marts.rows(
        "select status, count(*) as n from {orders} "
        "where created_at >= ? and created_at < ? group by status",
        list(window.utc_bounds()),
        orders="fct_orders",
    )
    counts = dict.fromkeys(ORDER_STATUSES, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
