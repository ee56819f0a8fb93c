"""Unique customers and order-value percentiles per group, as values with bounds.

Both precisions answer in one shape: a :class:`Bounded` value per measure. Exact values have
``lower_bound == value == upper_bound``; sketch estimates carry the bounds the sketch states.

Percentiles use the nearest-rank definition: p50 is the smallest order total with at least half
of the group's orders at or below it, i.e. the ``ceil(p * n)``-th smallest (integer arithmetic,
so no float decides a rank). Unique customers count distinct customer ids; guests have none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse.marts import TenantMarts
from warehouse.metrics.request import SalesRequest

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class Bounded:
    """A value and the interval the true value lies in (equal for exact values)."""

    value: int
    lower_bound: int
    upper_bound: int

    @classmethod
    def exact(cls, value: int) -> Bounded:
        return cls(value, value, value)


@dataclass(frozen=True)
class Distribution:
    """One group's unique customers and order-value percentiles (None: no orders)."""

    unique_customers: Bounded = field(default_factory=lambda: Bounded.exact(0))
    order_value: dict[str, Bounded | None] = field(
        default_factory=lambda: {f"p{p}": None for p in PERCENTILES}
    )


EMPTY = Distribution()


def nearest_rank(percent: int, n: int) -> int:
    """Return the 1-based rank of the ``percent``-th percentile of ``n`` values (ceil(p*n))."""
    return max(1, (percent * n + 99) // 100)


def exact_spread(
    marts: TenantMarts, req: SalesRequest
) -> tuple[dict[str, Distribution], Distribution]:
    """Return each group's exact distribution and the whole range's, from one scan of the facts.

    The whole range counts each order once (an order in two categories is one order there).
    """
    picks = ", ".join(
        f"min(total_minor) filter (where rn = greatest(1, ({p} * n + 99) // 100)) as p{p}"
        for p in PERCENTILES
    )
    sql = (
        f"{req.grouped(req.group_by)}, scoped as ("
        "select false as whole, key, customer_id, total_minor from grouped union all "
        "select true, null, customer_id, total_minor from counted), "
        "ranked as (select whole, key, customer_id, total_minor, "
        "row_number() over (partition by whole, key order by total_minor) as rn, "
        "count(*) over (partition by whole, key) as n from scoped) "
        f"select whole, key, count(distinct customer_id) as unique_customers, {picks} "
        "from ranked group by whole, key"
    )
    groups, whole = {}, EMPTY
    for row in marts.rows(sql, req.params(), **req.facts_for(req.group_by)):
        if row["whole"]:
            whole = _exact(row)
        else:
            groups[row["key"]] = _exact(row)
    return groups, whole


def _exact(row: dict) -> Distribution:
    values = {f"p{p}": row[f"p{p}"] for p in PERCENTILES}
    return Distribution(
        Bounded.exact(row["unique_customers"]),
        {name: None if v is None else Bounded.exact(v) for name, v in values.items()},
    )
