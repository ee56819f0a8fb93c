"""Generate every entity of one tenant, chunk by chunk, into a sink.

Order of work: customers and notes; the order plan; opening stock; then per order chunk its
orders, refunds, stock movements and storefront events; then products (whose stock and price
are only final once the orders are done) and price observations. Each entity's batches are
timed so the summary can report rows/s per entity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa

from ingestion.generator.catalog import Catalog
from ingestion.generator.customers import CustomerPlan, customer_batch, note_batch
from ingestion.generator.events import EventStream
from ingestion.generator.orderplan import OrderPlan, plan_orders
from ingestion.generator.orderrows import order_batch, refund_batch
from ingestion.generator.orders import build_chunk
from ingestion.generator.presets import Sizes, TenantDef
from ingestion.generator.prices import PriceModel
from ingestion.generator.products import price_batch, product_batch
from ingestion.generator.progress import Progress
from ingestion.generator.seeding import rng
from ingestion.generator.sinks import Sink
from ingestion.generator.stock import StockLedger
from ingestion.generator.timeline import Timeline

ROWS_PER_CHUNK = 50_000
ORDERS_PER_CHUNK = 10_000  # ~30k lines and ~200k events per chunk
PRODUCTS_PER_CHUNK = 10_000  # products carry nested variants, so fewer per batch
T = TypeVar("T")


def _spans(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, total)) for lo in range(0, total, size)]


class TenantRun:
    """One tenant's generation: shared plans plus an ``emit`` that times and writes."""

    def __init__(self, tenant: TenantDef, index: int, sizes: Sizes, seed: int, sink: Sink,
                 progress: Progress):  # fmt: skip
        self.tenant, self.index, self.sizes, self.seed = tenant, index, sizes, seed
        self.sink, self.progress = sink, progress
        self.timeline = Timeline(tenant.timezone, sizes.end, sizes.days, seed, index)
        self.catalog = Catalog(tenant, sizes.products, seed, index)
        self.prices = PriceModel(
            self.catalog, self.timeline, sizes.price_samples, tenant.minor_digits, seed
        )
        self.customers = CustomerPlan(sizes.customers, self.timeline, seed, index)
        self.tz = tenant.timezone
        self._next_note = 1

    def timed(self, entity: str, work: Callable[[], T]) -> T:
        """Run shared work (plans, a chunk's numbers) and count its time under ``entity``."""
        started = time.perf_counter()
        result = work()
        self.progress.add(entity, 0, time.perf_counter() - started, {})
        return result

    def emit(self, entity: str, make: Callable[[], pa.RecordBatch]) -> None:
        """Build one batch, write it, and count it under ``entity``."""
        started = time.perf_counter()
        batch = make()
        invalid = self.sink.write(self.tenant, entity, batch)
        self.progress.add(entity, batch.num_rows, time.perf_counter() - started, invalid)

    def run(self) -> None:
        """Generate and write all entities of the tenant."""
        self._customers()
        ledger = self._orders()
        self._products(ledger)
        self.sink.finish_tenant(self.tenant)

    def _customers(self) -> None:
        for lo, hi in _spans(self.sizes.customers, ROWS_PER_CHUNK):
            self.emit("customers", lambda lo=lo, hi=hi: customer_batch(
                self.customers, self.tenant, lo, hi, self.seed, self.index))  # fmt: skip
            self.emit("customer_notes", lambda span=(lo, hi): self._notes(span))

    def _notes(self, span: tuple[int, int]) -> pa.RecordBatch:
        batch = note_batch(self.customers, self.tenant, self.sizes.notes_ratio, span,
                           self._next_note, self.seed, self.index)  # fmt: skip
        self._next_note += batch.num_rows
        return batch

    def _orders(self) -> StockLedger:
        def plans() -> tuple[OrderPlan, StockLedger]:
            plan = plan_orders(self.customers, self.sizes.orders, self.seed, self.index)
            return plan, StockLedger(self.catalog, self.timeline, self.sizes, self.seed, self.index)

        plan, ledger = self.timed("orders", plans)
        for lo, hi in _spans(self.catalog.sku_count, ROWS_PER_CHUNK):
            self.emit("stock_events", lambda lo=lo, hi=hi: ledger.initial_batch(lo, hi, self.tz))
        events = EventStream(self.catalog, self.prices, self.customers, self.tenant,
                             self.sizes.sessions_per_order)  # fmt: skip
        for span in _spans(len(plan), ORDERS_PER_CHUNK):
            self._order_chunk(plan, span, ledger, events)
        return ledger

    def _order_chunk(self, plan: OrderPlan, span: tuple[int, int], ledger: StockLedger,
                     events: EventStream) -> None:  # fmt: skip
        """Write one chunk of orders and the refunds, stock movements and events they cause."""
        g = rng(self.seed, self.index, "orders", span[0])
        chunk = self.timed("orders", lambda: build_chunk(
            plan, span, self.catalog, self.prices, self.tenant, self.timeline, g,
            self.sizes.items_per_order))  # fmt: skip
        self.emit(
            "orders", lambda: order_batch(chunk, self.catalog, self.customers, self.tenant, g)
        )
        self.emit("refunds", lambda: refund_batch(chunk, self.tenant, g))
        g_stock = rng(self.seed, self.index, "stock-chunk", span[0])
        self.emit("stock_events", lambda: ledger.chunk_batch(chunk, g_stock, self.tz))
        g_events = rng(self.seed, self.index, "events", span[0])
        self.emit("events", lambda: events.chunk_batch(chunk, g_events))

    def _products(self, ledger: StockLedger) -> None:
        levels = ledger.product_levels()
        for span in _spans(self.sizes.products, PRODUCTS_PER_CHUNK):
            self.emit("products", lambda span=span: product_batch(
                self.catalog, self.prices, self.tenant, span, ledger.level, levels,
                ledger.min_level, self.seed))  # fmt: skip
        per_chunk = max(1, ROWS_PER_CHUNK // self.sizes.price_samples)
        for span in _spans(self.sizes.products, per_chunk):
            self.emit("price_events", lambda span=span: price_batch(
                self.catalog, self.prices, self.tenant, span))  # fmt: skip
