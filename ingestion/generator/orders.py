"""Orders of one chunk: line items, money that adds up exactly, statuses, payments, refunds.

Money follows the contract rules with integers only: line net = quantity * unit - line
discount; subtotal = sum of line nets; tax = round-half-up(rate * (subtotal - discount));
shipping is free above the shop's threshold; total = subtotal - discount + tax + shipping.
The numeric arrays are kept on the chunk so events and stock movements can follow the orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.generator.catalog import Catalog
from ingestion.generator.columns import width_for
from ingestion.generator.orderplan import OrderPlan
from ingestion.generator.presets import TenantDef
from ingestion.generator.prices import PriceModel
from ingestion.generator.timeline import Timeline

STATUSES = ("pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded")
PENDING, PAID, FULFILLED, CANCELLED, REFUNDED, PARTIAL = range(6)
# Status mix by age band: under a day, under four days, older.
_STATUS_P = np.cumsum(
    [
        [0.30, 0.62, 0.00, 0.08, 0.00, 0.00],
        [0.00, 0.35, 0.58, 0.07, 0.00, 0.00],
        [0.00, 0.00, 0.885, 0.04, 0.035, 0.04],
    ],
    axis=1,
)
_LINE_DISCOUNT_PCT = np.array([10, 20, 25, 50])
_COUPON_PCT = np.array([5, 10, 15, 20])
DAY = 86400


@dataclass
class OrderChunk:
    """Numeric arrays of orders ``number[0]..`` and their lines (lines grouped by order)."""

    number: np.ndarray  # 1-based order number within the tenant
    created: np.ndarray
    customer: np.ndarray
    lines: np.ndarray  # line count per order
    product: np.ndarray  # per line
    sku: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    line_discount: np.ndarray
    subtotal: np.ndarray
    discount: np.ndarray
    tax: np.ndarray
    shipping: np.ndarray
    total: np.ndarray
    status: np.ndarray
    updated: np.ndarray
    refund_order: np.ndarray  # per refund: row of the order in this chunk
    refund_amount: np.ndarray
    refund_at: np.ndarray
    refund_failed: np.ndarray
    id_width: int  # digits of order ids, fixed by the tenant's order count

    @property
    def line_order(self) -> np.ndarray:
        """Return the chunk row of each line's order."""
        return np.repeat(np.arange(len(self.number)), self.lines)


def build_chunk(
    plan: OrderPlan, span: tuple[int, int], catalog: Catalog, prices: PriceModel,
    tenant: TenantDef, timeline: Timeline, g: np.random.Generator, items_per_order: float,
) -> OrderChunk:  # fmt: skip
    """Generate orders ``span[0]..span[1]`` of the plan with their lines and refunds."""
    lo, hi = span
    created = plan.created_at[lo:hi]
    lines = 1 + g.poisson(items_per_order - 1, hi - lo)
    product, sku, quantity, unit, line_discount = _lines(created, lines, catalog, prices, g)
    money = _money(quantity * unit - line_discount, lines, tenant, g)
    status = _statuses(timeline.now - created, money[-1], g)
    refunds = _refunds(created, money[-1], status, timeline.now, g)
    updated = _updated(created, status, refunds, timeline.now, g)
    return OrderChunk(
        np.arange(lo + 1, hi + 1), created, plan.customer[lo:hi], lines, product, sku, quantity,
        unit, line_discount, *money, status, updated, *refunds, width_for(len(plan), 8),
    )  # fmt: skip


def _lines(created, lines, catalog, prices, g) -> tuple[np.ndarray, ...]:
    """Draw each line's product, SKU, quantity, unit price (at order time) and discount."""
    product, sku = catalog.sample(g, int(lines.sum()))
    quantity = np.select([g.random(len(sku)) < 0.85, g.random(len(sku)) < 0.67], [1, 2], 3)
    unit = prices.sku_price(sku, np.repeat(created, lines))
    pct = np.where(g.random(len(sku)) < 0.08, g.choice(_LINE_DISCOUNT_PCT, len(sku)), 0)
    return product, sku, quantity, unit, quantity * unit * pct // 100


def _money(line_net, lines, tenant: TenantDef, g) -> tuple[np.ndarray, ...]:
    """Return subtotal, discount, tax, shipping and total per order (integers, exact)."""
    n = len(lines)
    starts = np.concatenate([[0], np.cumsum(lines)[:-1]])
    subtotal = np.add.reduceat(line_net, starts) if n else np.zeros(0, np.int64)
    coupon = np.where(g.random(n) < 0.15, g.choice(_COUPON_PCT, n), 0)
    discount = subtotal * coupon // 100
    taxable = subtotal - discount
    tax = (taxable * tenant.tax_rate_bp + 5000) // 10000  # round half up
    unit_minor = 10**tenant.minor_digits
    free = taxable >= tenant.free_shipping_over * unit_minor
    shipping = np.where(free, 0, tenant.shipping_fee * unit_minor)
    return subtotal, discount, tax, shipping, taxable + tax + shipping


def _statuses(age: np.ndarray, total: np.ndarray, g: np.random.Generator) -> np.ndarray:
    band = np.where(age < DAY, 0, np.where(age < 4 * DAY, 1, 2))
    status = (g.random(len(age))[:, None] > _STATUS_P[band]).sum(axis=1)
    status = np.minimum(status, PARTIAL)
    # A partial refund needs something left over.
    return np.where((status == PARTIAL) & (total < 2), REFUNDED, status)


def _refunds(created, total, status, now, g):
    refunded = np.flatnonzero(status >= REFUNDED)
    owed = total[refunded]
    split = (status[refunded] == REFUNDED) & (g.random(len(refunded)) < 0.2)
    partial = np.clip((owed * g.uniform(0.1, 0.6, len(refunded))).astype(np.int64), 1, owed - 1)
    first = np.where(status[refunded] == PARTIAL, partial, np.where(split, owed // 2, owed))
    first_at = np.minimum(created[refunded] + g.integers(DAY, 30 * DAY, len(refunded)), now)
    second_at = np.minimum(first_at + g.integers(3600, 5 * DAY, len(refunded)), now)
    # Some refunds fail first and succeed on a later attempt.
    failed = g.random(len(refunded)) < 0.06
    failed_at = np.maximum(first_at - g.integers(600, DAY, len(refunded)), created[refunded])
    order = np.concatenate([refunded, refunded[split], refunded[failed]])
    amount = np.concatenate([first, (owed - first)[split], first[failed]])
    at = np.concatenate([first_at, second_at[split], failed_at[failed]])
    is_failed = np.repeat([False, False, True], [len(refunded), split.sum(), failed.sum()])
    keep = np.lexsort((~is_failed, at, order))
    return order[keep], amount[keep], at[keep], is_failed[keep]


def _updated(created, status, refunds, now, g) -> np.ndarray:
    n = len(created)
    after = np.select(
        [status == PENDING, status == PAID, status == FULFILLED, status == CANCELLED],
        [g.integers(0, 600, n), g.integers(30, 900, n), g.integers(DAY // 2, 3 * DAY, n),
         g.integers(600, 2 * DAY, n)],
        0,
    )  # fmt: skip
    updated = np.minimum(created + after, now)
    order, _, at, _ = refunds
    np.maximum.at(updated, order, at)
    return np.maximum(updated, created)
