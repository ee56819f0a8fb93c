"""When each order happens and who places it, for a whole tenant, as two compact arrays.

Each buying customer's first order follows their sign-up within minutes; repeat orders are
spread over the customer's active window with the shop's seasonality; guests order any time.
Sorted by time, position i becomes order number i + 1, so ids grow with time. Only 12 bytes
per order are held (2 M orders: 24 MB); everything else is generated chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.generator.customers import BROWSER, CustomerPlan
from ingestion.generator.seeding import rng

GUEST_SHARE = 0.08


@dataclass(frozen=True)
class OrderPlan:
    """Order instants (UTC seconds, ascending) and customer index per order (-1 = guest)."""

    created_at: np.ndarray
    customer: np.ndarray

    def __len__(self) -> int:
        return len(self.created_at)


def _repeat_counts(plan: CustomerPlan, registered: int, g: np.random.Generator) -> np.ndarray:
    buyers = np.flatnonzero(plan.segment != BROWSER)
    if len(buyers) > registered:
        buyers = np.sort(g.choice(buyers, registered, replace=False))
    counts = np.zeros(plan.count, dtype=np.int64)
    counts[buyers] = 1
    extra = registered - len(buyers)
    weights = plan.repeat_weight[buyers]
    if extra > 0 and len(buyers):
        if weights.sum() <= 0:
            weights = np.ones(len(buyers))
        counts[buyers] += g.multinomial(extra, weights / weights.sum())
    return counts


def plan_orders(plan: CustomerPlan, total: int, seed: int, index: int) -> OrderPlan:
    """Return ``total`` orders of a tenant spread over its customers and guests."""
    g = rng(seed, index, "order-plan")
    timeline = plan.timeline
    counts = _repeat_counts(plan, round(total * (1 - GUEST_SHARE)), g)
    buyers = np.flatnonzero(counts)
    first = np.minimum(plan.signup_at[buyers] + g.integers(120, 5400, len(buyers)), timeline.now)
    repeat = np.repeat(buyers, counts[buyers] - 1)
    days = timeline.sample_days(g, plan.signup_day[repeat], plan.active_until[repeat])
    later = timeline.sample_instants(g, days)
    # A repeat order on the sign-up day must still come after the first order.
    first_of = np.zeros(plan.count, dtype=np.int64)
    first_of[buyers] = first
    later = np.minimum(np.maximum(later, first_of[repeat] + 600), timeline.now)
    guests = total - int(counts.sum())
    guest_days = timeline.sample_days(g, np.zeros(guests, int), np.full(guests, timeline.days - 1))
    guest_at = timeline.sample_instants(g, guest_days)
    created = np.concatenate([first, later, guest_at])
    customer = np.concatenate([buyers, repeat, np.full(guests, -1)])
    order = np.lexsort((customer, created))
    return OrderPlan(created[order].astype(np.int64), customer[order].astype(np.int64))
