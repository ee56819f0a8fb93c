"""Customer answers: lifetime figures, VIP / new / inactive lists, top customers, RFM segments.

Figures come from ``mart_customer_lifetime`` (every customer; counted orders only) joined with
``dim_customers`` (names) and ``mart_customer_rfm`` (scores and segment, for customers with an
order in the RFM window). The VIP / new / inactive flags are computed here, on the mart's
as-of day, with the thresholds the caller passes (the tenant's settings as they are now, or a
request's override), so a changed setting applies without waiting for a build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warehouse.analytics.exact import average_minor, ratio
from warehouse.marts import TenantMarts

# The RFM grid's segments, best first (dbt_project/README.md).
SEGMENTS = (
    "Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention",
    "About to Sleep", "At Risk", "Cannot Lose Them", "Hibernating", "Lost",
)  # fmt: skip
# Sort columns of top_customers, by the name a client passes.
TOP_CUSTOMER_METRICS = {
    "lifetime_value": "lifetime_value_minor",
    "orders": "order_count",
    "average_order_value": "average_order_value_minor",
}
FREQUENCY_BUCKETS = 5  # orders 1, 2, 3, 4 and "5 or more"
# The customer lists: which customers (a figures condition) and their order (column, descending).
LISTS = {
    "vip": ("is_vip", "lifetime_value_minor", True),  # highest lifetime value first
    "new": ("is_new", "first_order_at", True),  # newest first order first
    "inactive": ("is_inactive", "last_order_at", False),  # longest without an order first
    "segment": ("segment = ?", "monetary_minor", True),  # highest spend in the window first
}

_FIGURES = """
    select l.customer_id, d.email, d.first_name, d.last_name, l.currency, l.order_count,
        l.gross_spend_minor, l.refunded_minor, l.lifetime_value_minor,
        l.average_order_value_minor, l.cohort_month, l.first_order_date, l.last_order_date,
        l.days_since_last_order, l.as_of_date,
        cast(l.first_order_at as timestamptz) as first_order_at,
        cast(l.last_order_at as timestamptz) as last_order_at,
        l.order_count > 0 and l.lifetime_value_minor >= ? as is_vip,
        l.order_count > 0 and datediff('day', l.first_order_date, l.as_of_date) < ? as is_new,
        l.order_count > 0 and l.days_since_last_order >= ? as is_inactive,
        r.segment, r.rfm_cell, r.r_score, r.f_score, r.m_score, r.recency_days,
        r.frequency, r.monetary_minor
    from {lifetime} as l
    inner join {customers} as d
        on l.tenant_id = d.tenant_id and l.customer_id = d.customer_id
    left join {rfm} as r
        on l.tenant_id = r.tenant_id and l.customer_id = r.customer_id
"""
_MARTS = {
    "lifetime": "mart_customer_lifetime",
    "customers": "dim_customers",
    "rfm": "mart_customer_rfm",
}


@dataclass(frozen=True)
class Thresholds:
    """What makes a customer VIP, new or inactive (tenant settings, or a request's override)."""

    vip_lifetime_value_minor: int
    new_customer_days: int
    inactive_customer_days: int

    def params(self) -> list[int]:
        return [self.vip_lifetime_value_minor, self.new_customer_days, self.inactive_customer_days]


@dataclass(frozen=True)
class Listing:
    """One page of a customer list: which customers, in what order, and where to resume."""

    where: str  # a fixed condition over the figures' columns, ? for its params
    params: tuple[Any, ...]
    sort: str  # a figures column, never null for the customers ``where`` selects
    descending: bool
    limit: int
    after: tuple[Any, str] | None = None  # (sort value, customer_id) of the last row


def listing(
    kind: str, limit: int, after: tuple[Any, str] | None = None, params: tuple[Any, ...] = ()
) -> Listing:
    """Return one page of a customer list of :data:`LISTS`."""
    where, sort, descending = LISTS[kind]
    return Listing(where, params, sort, descending, limit, after)


def segment_named(text: str) -> str | None:
    """Return the segment a path names ("cannot-lose-them", "Cannot Lose Them"), or None."""
    wanted = text.strip().lower().replace("_", "-").replace(" ", "-")
    return next((name for name in SEGMENTS if segment_slug(name) == wanted), None)


def segment_slug(name: str) -> str:
    """Return a segment's URL form ("Cannot Lose Them" -> "cannot-lose-them")."""
    return name.lower().replace(" ", "-")


def customer_page(marts: TenantMarts, thresholds: Thresholds, listing: Listing) -> list[dict]:
    """Return up to ``limit + 1`` customers of a listing, in its order, after its position."""
    direction = "desc" if listing.descending else "asc"
    after, after_params = "true", []
    if listing.after is not None:
        past = "<" if listing.descending else ">"
        after = f"({listing.sort} {past} ? or ({listing.sort} = ? and customer_id > ?))"
        after_params = [listing.after[0], listing.after[0], listing.after[1]]
    return marts.rows(
        f"with figures as ({_FIGURES}) select * from figures "
        f"where {listing.where} and {after} "
        f"order by {listing.sort} {direction}, customer_id limit ?",
        [*thresholds.params(), *listing.params, *after_params, listing.limit + 1],
        **_MARTS,
    )


def one_customer(marts: TenantMarts, thresholds: Thresholds, customer_id: str) -> dict | None:
    """Return one customer's lifetime figures and RFM scores, or None if unknown."""
    rows = customer_page(
        marts, thresholds, Listing("customer_id = ?", (customer_id,), "customer_id", False, 1)
    )
    return rows[0] if rows else None


def top_customers(
    marts: TenantMarts, thresholds: Thresholds, by: str, limit: int
) -> list[dict[str, Any]]:
    """Return the customers with the highest lifetime value, order count or order value."""
    column = TOP_CUSTOMER_METRICS[by]
    listing = Listing("order_count > 0", (), column, True, limit)
    return customer_page(marts, thresholds, listing)[:limit]


def summary(marts: TenantMarts, thresholds: Thresholds) -> dict[str, Any]:
    """Return the tenant's customers in headline figures, flags counted with ``thresholds``."""
    row = marts.rows(
        f"""
        with figures as ({_FIGURES})
        select count(*) as customer_count,
            count(*) filter (where order_count > 0) as customers_with_orders,
            count(*) filter (where order_count > 1) as repeat_customer_count,
            count(*) filter (where is_vip) as vip_customer_count,
            count(*) filter (where is_new) as new_customer_count,
            count(*) filter (where is_inactive) as inactive_customer_count,
            coalesce(sum(order_count), 0)::bigint as order_count,
            coalesce(sum(lifetime_value_minor), 0)::bigint as lifetime_value_minor,
            max(as_of_date) as as_of_date
        from figures
        """,
        thresholds.params(),
        **_MARTS,
    )[0]
    buyers = row["customers_with_orders"]
    return {
        **row,
        "repeat_rate": ratio(row["repeat_customer_count"], buyers),
        "average_lifetime_value_minor": average_minor(row["lifetime_value_minor"], buyers),
        "average_orders_per_customer": ratio(row["order_count"], buyers, 2),
    }


def analytics(marts: TenantMarts) -> dict[str, Any]:
    """Return how the tenant's buying customers spread: by cohort month and by order count."""
    cohorts = marts.rows(
        """
        select cohort_month, count(*) as customer_count,
            count(*) filter (where order_count > 1) as repeat_customer_count,
            sum(order_count)::bigint as order_count,
            sum(lifetime_value_minor)::bigint as lifetime_value_minor
        from {lifetime} where order_count > 0
        group by cohort_month order by cohort_month
        """,
        lifetime="mart_customer_lifetime",
    )
    buckets = marts.rows(
        """
        select least(order_count, ?) as orders, count(*) as customer_count,
            sum(lifetime_value_minor)::bigint as lifetime_value_minor
        from {lifetime} where order_count > 0
        group by 1 order by 1
        """,
        [FREQUENCY_BUCKETS],
        lifetime="mart_customer_lifetime",
    )
    for row in cohorts + buckets:
        row["average_lifetime_value_minor"] = average_minor(
            row["lifetime_value_minor"], row["customer_count"]
        )
    return {"cohorts": cohorts, "order_count_distribution": buckets}


def segments(marts: TenantMarts) -> dict[str, Any]:
    """Return every RFM segment with its customers, share and average values (empty ones too)."""
    rows = marts.rows(
        """
        select segment, count(*) as customer_count,
            sum(monetary_minor)::bigint as monetary_minor,
            sum(frequency)::bigint as frequency, sum(recency_days)::bigint as recency_days,
            min(as_of_date) as as_of_date, min(window_days) as window_days
        from {rfm} group by segment
        """,
        rfm="mart_customer_rfm",
    )
    found = {row["segment"]: row for row in rows}
    total = sum(row["customer_count"] for row in rows)
    first = rows[0] if rows else {}
    return {
        "as_of_date": first.get("as_of_date"),
        "window_days": first.get("window_days"),
        "customer_count": total,
        "data": [_segment(name, found.get(name), total) for name in SEGMENTS],
    }


def _segment(name: str, row: dict[str, Any] | None, total: int) -> dict[str, Any]:
    count = row["customer_count"] if row else 0
    monetary = row["monetary_minor"] if row else 0
    return {
        "segment": name,
        "slug": segment_slug(name),
        "customer_count": count,
        "share": ratio(count, total),
        "monetary_minor": monetary,
        "average_monetary_minor": average_minor(monetary, count),
        "average_frequency": ratio(row["frequency"], count, 2) if row else None,
        "average_recency_days": ratio(row["recency_days"], count, 1) if row else None,
    }
