"""Storefront sessions that form a funnel consistent with the orders.

Every order has a converting session ending in its `order_completed` event: a page view, then
for each line a product view and an add-to-cart, then checkout. Around them, non-converting
sessions (``sessions_per_order`` per order, near an order's time) browse, search, and sometimes
add to a cart or start a checkout and stop there. So views > adds > checkouts > orders per day.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generator import vocab
from ingestion.generator.catalog import Catalog
from ingestion.generator.columns import ids, join, offsets_of, pick, position_in_group, timestamps
from ingestion.generator.customers import CustomerPlan
from ingestion.generator.ndjson import raw_json_field
from ingestion.generator.orderrows import order_ids
from ingestion.generator.orders import OrderChunk
from ingestion.generator.presets import TenantDef
from ingestion.generator.prices import PriceModel

TYPES = ("page_viewed", "search_performed", "product_viewed", "product_added_to_cart",
         "product_removed_from_cart", "checkout_started", "order_completed")  # fmt: skip
PAGE, SEARCH, VIEW, ADD, REMOVE, CHECKOUT, COMPLETED = range(7)
_SOURCES = ("search", "collection", "home", "recommendation", "ad")
_SLOT_KINDS = np.array([PAGE, SEARCH, VIEW, ADD, REMOVE, CHECKOUT])
SCHEMA = pa.schema([
    ("id", pa.string()), ("type", pa.string()), ("occurred_at", pa.timestamp("us")),
    ("customer_id", pa.string()), ("session_id", pa.string()), ("product_id", pa.string()),
    ("order_id", pa.string()), raw_json_field("properties"),
])  # fmt: skip


class EventStream:
    """Builds a tenant's event batches chunk by chunk, numbering events and sessions."""

    def __init__(self, catalog: Catalog, prices: PriceModel, customers: CustomerPlan,
                 tenant: TenantDef, sessions_per_order: float):  # fmt: skip
        self.catalog, self.prices, self.customers = catalog, prices, customers
        self.timeline = customers.timeline
        self.tenant, self.sessions_per_order = tenant, sessions_per_order
        self.next_event, self.next_session = 1, 1

    def chunk_batch(self, chunk: OrderChunk, g: np.random.Generator) -> pa.RecordBatch:
        """Return the events of a chunk's converting and non-converting sessions, by time."""
        conv = self._converting(chunk, g)
        lost, sessions = self._abandoned(chunk, g)
        ev = {k: np.concatenate([conv[k], lost[k]]) for k in conv}
        ev["session"] += self.next_session
        self.next_session += len(chunk.number) + sessions
        order = np.lexsort((ev["pos"], ev["session"], ev["at"]))
        return self._batch({k: v[order] for k, v in ev.items()}, chunk.id_width)

    def _converting(self, chunk: OrderChunk, g: np.random.Generator) -> dict[str, np.ndarray]:
        n_events = 2 * chunk.lines + 3
        row = np.repeat(np.arange(len(chunk.number)), n_events)
        pos = position_in_group(n_events)
        last = n_events[row] - 1
        kind = np.select([pos == 0, pos == last, pos == last - 1, pos % 2 == 1],
                         [PAGE, COMPLETED, CHECKOUT, VIEW], ADD)  # fmt: skip
        line = offsets_of(chunk.lines)[row] + np.clip((pos - 1) // 2, 0, None)
        line = np.minimum(line, max(len(chunk.sku) - 1, 0))
        is_item = (kind == VIEW) | (kind == ADD)
        gap = g.integers(5, 180, len(row))
        back = _reverse_cumsum(gap, n_events) - gap  # the last event is the order itself
        value = np.select(
            [kind == ADD, kind == CHECKOUT, kind == COMPLETED],
            [chunk.unit_price[line], chunk.subtotal[row], chunk.total[row]],
            0,
        )
        return {
            "session": row, "pos": pos, "kind": kind, "at": chunk.created[row] - back,
            "customer": chunk.customer[row],
            "product": np.where(is_item, chunk.product[line], -1),
            "order": np.where(kind == COMPLETED, chunk.number[row], -1),
            "qty": np.where(kind == ADD, chunk.quantity[line], 0), "value": value,
            "word": g.integers(0, 1 << 16, len(row)),
        }  # fmt: skip

    def _abandoned(self, chunk: OrderChunk, g: np.random.Generator) -> tuple[dict, int]:
        m = g.poisson(self.sessions_per_order * len(chunk.number)) if len(chunk.number) else 0
        anchor = g.integers(0, max(len(chunk.number), 1), m)
        start = chunk.created[anchor] - g.integers(0, 2 * 86400, m) if m else np.zeros(0, int)
        start = np.maximum(start, self.timeline.start)
        counts = _session_slots(g, m)
        n_events = counts.sum(axis=1)
        session = np.repeat(np.arange(m), n_events)
        pos = position_in_group(n_events)
        bounds = np.cumsum(counts, axis=1)[session]
        kind = _SLOT_KINDS[(pos[:, None] >= bounds).sum(axis=1)]
        product, sku = self.catalog.sample(g, len(session))
        first_view = offsets_of(n_events)[session] + 1 + counts[session, 1]
        product = np.where(kind >= ADD, product[first_view], product)
        sku = sku[first_view]
        at = start[session] + _forward_cumsum(g.integers(5, 180, len(session)), n_events)
        at = np.minimum(at, self.timeline.now)
        price = self.prices.sku_price(sku, at)
        qty = np.where(kind >= ADD, 1, 0)
        customer = self._logged_in(chunk.customer[anchor], start, g)[session]
        with_product = (kind == VIEW) | (kind == ADD) | (kind == REMOVE)
        return {
            "session": len(chunk.number) + session, "pos": pos, "kind": kind, "at": at,
            "customer": customer, "product": np.where(with_product, product, -1),
            "order": np.full(len(session), -1), "qty": qty,
            "value": np.where(kind >= ADD, price, 0), "word": g.integers(0, 1 << 16, len(session)),
        }, m  # fmt: skip

    def _logged_in(self, customer: np.ndarray, start: np.ndarray, g) -> np.ndarray:
        signed_up = self.customers.signup_at[np.maximum(customer, 0)] <= start
        ok = (customer >= 0) & signed_up & (g.random(len(customer)) < 0.4)
        return np.where(ok, customer, -1)

    def _batch(self, ev: dict[str, np.ndarray], order_width: int) -> pa.RecordBatch:
        n = len(ev["at"])
        number = np.arange(self.next_event, self.next_event + n)
        self.next_event += n
        customer, product, order = ev["customer"], ev["product"], ev["order"]
        columns = [
            ids("evt-", number, 10, widen=True),
            pick(TYPES, ev["kind"]),
            timestamps(ev["at"], self.tenant.timezone),
            self.customers.customer_ids(customer),
            ids("ses-", ev["session"], 9, widen=True),
            self.catalog.product_ids(product),
            order_ids(order, order_width),
            self._properties(ev),
        ]
        schema = SCHEMA.set(2, pa.field("occurred_at", pa.timestamp("us", tz=self.tenant.timezone)))
        return pa.record_batch(columns, schema=schema)

    def _properties(self, ev: dict[str, np.ndarray]) -> pa.Array:
        kind = ev["kind"]
        parts, where = [], []
        for code in range(len(TYPES)):
            rows = np.flatnonzero(kind == code)
            parts.append(_property_text(code, rows, ev, self.tenant.currency))
            where.append(rows)
        inverse = np.empty(len(kind), dtype=np.int64)
        inverse[np.concatenate(where)] = np.arange(len(kind))
        return pa.concat_arrays(parts).take(pa.array(inverse))


def _session_slots(g: np.random.Generator, m: int) -> np.ndarray:
    """Return per non-converting session how many events of each slot it has, in order:
    page view, search, product views, add to cart, remove from cart, checkout.

    80 % only browse, 12 % also add to a cart (a quarter of them remove it again), 8 % go on
    to start a checkout.
    """
    kind_u = g.random(m)
    search = g.random(m) < 0.3
    views = 1 + g.poisson(1.5, m)
    add = kind_u >= 0.8
    remove = (kind_u >= 0.8) & (kind_u < 0.92) & (g.random(m) < 0.25)
    checkout = kind_u >= 0.92
    return np.stack([np.ones(m, bool), search, views, add, remove, checkout], axis=1).astype(
        np.int64
    )


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _property_text(code: int, rows: np.ndarray, ev: dict, currency: str) -> pa.Array:
    """Return the JSON ``properties`` of events of one type."""
    word, value = ev["word"][rows], ev["value"][rows]
    if code == PAGE:
        page, ref = pick(vocab.PAGES, word % len(vocab.PAGES)), pick(vocab.REFERRERS, word % 7)
        return join('{"path":"', page, '","referrer":"', ref, '"}')
    if code == SEARCH:
        term = pick(vocab.SEARCH_TERMS, word % len(vocab.SEARCH_TERMS))
        return join('{"query":"', term, '","results":', _text(word % 40), "}")
    if code == VIEW:
        return join('{"source":"', pick(_SOURCES, word % len(_SOURCES)), '"}')
    if code in (ADD, REMOVE):
        qty = _text(ev["qty"][rows])
        return join('{"quantity":', qty, ',"unit_price_minor":', _text(value), "}")
    name = "value_minor" if code == CHECKOUT else "total_minor"
    return join(f'{{"{name}":', _text(value), f',"currency":"{currency}"}}')


def _forward_cumsum(gap: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return running sums of ``gap`` restarting at each group, starting at 0."""
    total = np.cumsum(gap) - gap
    return total - np.repeat(total[offsets_of(counts)[:-1]], counts) if len(gap) else total


def _reverse_cumsum(gap: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return, per element, the sum of ``gap`` from it to the end of its group."""
    total = np.cumsum(gap)
    ends = np.repeat(total[np.cumsum(counts) - 1], counts) if len(gap) else total
    return ends - total + gap
