"""What a sales-metrics request asks for, validated, and the SQL shared by every computation.

Orders "count in sales" exactly as the marts define it (int_orders__localized): paid (paid,
fulfilled, refunded, partially refunded) and in the tenant's currency. Days and hours are
wall-clock time in the tenant's zone; ``start_date`` and ``end_date`` are both included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from warehouse.errors import ServiceError

GROUPINGS = ("day", "hour", "product", "category")
PRECISIONS = ("exact", "approx")
MAX_HOUR_DAYS = 92  # an hourly answer of at most ~2,200 rows
ZONE_MARGIN = timedelta(days=1)  # wider than any UTC offset

# Counted orders in range with their local time; $1 zone, $2 currency, $3/$4 first/last day,
# $5/$6 the UTC instants that surely hold the range (see SalesRequest.params): a plain bound
# on created_at lets the scan skip row groups before any time zone is converted.
COUNTED = (
    "counted as (select order_id, customer_id, total_minor, local_at from ("
    "select order_id, customer_id, total_minor, "
    "timezone($1, timezone('UTC', created_at)) as local_at from {orders} "
    "where is_paid and currency = $2 "
    "and ($5::timestamp is null or created_at >= $5) "
    "and ($6::timestamp is null or created_at < $6)) "
    "where ($3::date is null or cast(local_at as date) >= $3) "
    "and ($4::date is null or cast(local_at as date) <= $4))"
)
# One row per (group, counted order): what unique customers and percentiles are taken over.
LINE_GROUPS = (
    "select distinct {key} as key, c.order_id, c.customer_id, c.total_minor from counted as c "
    "join {lines} as l on l.order_id = c.order_id "
    "join {products} as p on p.product_id = l.product_id"
)
GROUP_ROWS = {
    "day": "select strftime(local_at, '%Y-%m-%d') as key, order_id, customer_id, total_minor "
    "from counted",
    "hour": "select strftime(date_trunc('hour', local_at), '%Y-%m-%dT%H:%M:%S') as key, "
    "order_id, customer_id, total_minor from counted",
    "product": LINE_GROUPS.replace("{key}", "p.product_id"),
    "category": LINE_GROUPS.replace("{key}", "p.category_path"),
    None: "select 'all' as key, order_id, customer_id, total_minor from counted",
}
FACTS = {"orders": "fct_orders", "lines": "fct_order_items", "products": "dim_products"}


class MetricsInputError(ServiceError):
    """A metrics parameter that cannot be answered as given (422 naming it)."""

    status = 422


@dataclass(frozen=True)
class SalesRequest:
    """One validated request: grouping, local date range, precision and the tenant's calendar."""

    group_by: str
    start_date: date | None
    end_date: date | None
    precision: str
    timezone: str
    currency: str

    def params(self) -> list:
        """Return the positional parameters of :data:`COUNTED` ($1-$6).

        A local day lies within 14 hours of the same UTC day (offsets run from -12 to +14),
        so a day's margin either side of the UTC range never drops an order of the range.
        """
        since = until = None
        if self.start_date is not None:
            since = datetime.combine(self.start_date - ZONE_MARGIN, time())
        if self.end_date is not None:
            until = datetime.combine(self.end_date + 2 * ZONE_MARGIN, time())
        return [self.timezone, self.currency, self.start_date, self.end_date, since, until]

    def grouped(self, grouping: str | None) -> str:
        """Return CTEs ending in ``grouped``: (key, order_id, customer_id, total_minor) rows."""
        return f"with {COUNTED}, grouped as ({GROUP_ROWS[grouping]})"

    def facts_for(self, grouping: str | None) -> dict[str, str]:
        """Return the fact marts a grouping's rows read."""
        return FACTS if grouping in ("product", "category") else {"orders": FACTS["orders"]}


def make_request(
    group_by: str,
    precision: str,
    timezone: str,
    currency: str,
    start_date: date | None = None,
    end_date: date | None = None,
) -> SalesRequest:
    """Validate a request (raise MetricsInputError naming the field)."""
    if group_by not in GROUPINGS:
        raise MetricsInputError("group_by", f"one of {', '.join(GROUPINGS)}")
    if precision not in PRECISIONS:
        raise MetricsInputError("precision", f"one of {', '.join(PRECISIONS)}")
    if start_date and end_date and end_date < start_date:
        raise MetricsInputError("end_date", "must not be before start_date")
    if group_by == "hour":
        if start_date is None or end_date is None:
            raise MetricsInputError("start_date", "group_by=hour needs start_date and end_date")
        if (end_date - start_date).days >= MAX_HOUR_DAYS:
            raise MetricsInputError("end_date", f"group_by=hour spans at most {MAX_HOUR_DAYS} days")
    return SalesRequest(group_by, start_date, end_date, precision, timezone, currency)
