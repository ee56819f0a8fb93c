"""Turn an order chunk's arrays into `orders` and `refunds` record batches (contract shape)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generator import vocab
from ingestion.generator.catalog import Catalog
from ingestion.generator.columns import ids, ints, join, lists, pick, timestamps
from ingestion.generator.customers import CustomerPlan
from ingestion.generator.orders import PENDING, STATUSES, OrderChunk
from ingestion.generator.presets import TenantDef

_PAYMENT_STATUS = ("pending", "captured", "captured", "voided", "refunded", "partially_refunded")
_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8)


def order_ids(number: np.ndarray, width: int) -> pa.Array:
    """Return the merchant ids of orders by 1-based number (null for numbers below 1)."""
    return ids("ord-", np.maximum(number, 1), width, null=number < 1)


def _hex_references(g: np.random.Generator, n: int) -> pa.Array:
    raw = g.integers(0, 256, (n, 12), dtype=np.uint8)
    text = _HEX.reshape(256, 2)[raw].reshape(n, 24)
    offsets = pa.py_buffer(np.arange(0, 24 * (n + 1), 24, dtype=np.int32))
    return join("pi_", pa.StringArray.from_buffers(n, offsets, pa.py_buffer(text)))


def _items(chunk: OrderChunk, catalog: Catalog) -> pa.Array:
    sku = chunk.sku
    item = pa.StructArray.from_arrays(
        [
            catalog.product_ids(chunk.product),
            catalog.variant_ids(sku),
            catalog.sku_codes(sku),
            catalog.sku_names(sku),
            ints(chunk.quantity),
            ints(chunk.unit_price),
            ints(chunk.line_discount),
        ],
        names=["product_id", "variant_id", "sku", "name", "quantity", "unit_price_minor",
               "discount_minor"],
    )  # fmt: skip
    return lists(chunk.lines, item)


def _payments(chunk: OrderChunk, g: np.random.Generator) -> pa.Array:
    n = len(chunk.number)
    provider = pick(vocab.PAYMENT_PROVIDERS, g.choice(3, n, p=[0.6, 0.25, 0.15]))
    status = pick(_PAYMENT_STATUS, chunk.status)
    reference = pc.if_else(pa.array(chunk.status == PENDING), None, _hex_references(g, n))
    return pa.StructArray.from_arrays(
        [provider, status, reference], names=["provider", "status", "reference"]
    )


def order_batch(
    chunk: OrderChunk, catalog: Catalog, customers: CustomerPlan, tenant: TenantDef,
    g: np.random.Generator,
) -> pa.RecordBatch:  # fmt: skip
    """Return the chunk's orders with nested items and payment."""
    n = len(chunk.number)
    tz = tenant.timezone
    columns = {
        "id": order_ids(chunk.number, chunk.id_width),
        "order_number": join("#", pc.cast(pa.array(chunk.number + 1000), pa.string())),
        "customer_id": customers.customer_ids(chunk.customer),
        "status": pick(STATUSES, chunk.status),
        "currency": pa.repeat(tenant.currency, n),
        "subtotal_minor": ints(chunk.subtotal),
        "discount_minor": ints(chunk.discount),
        "tax_minor": ints(chunk.tax),
        "shipping_minor": ints(chunk.shipping),
        "total_minor": ints(chunk.total),
        "created_at": timestamps(chunk.created, tz),
        "updated_at": timestamps(chunk.updated, tz),
        "items": _items(chunk, catalog),
        "payment": _payments(chunk, g),
    }
    return pa.record_batch(columns)


def refund_batch(chunk: OrderChunk, tenant: TenantDef, g: np.random.Generator) -> pa.RecordBatch:
    """Return the chunk's refunds; ids are derived from the order so chunks never collide."""
    order = chunk.refund_order
    n = len(order)
    number = chunk.number[order]
    attempt = np.arange(n) - np.searchsorted(order, order)  # 0-based within each order
    reason = pick(vocab.REFUND_REASONS, g.integers(0, len(vocab.REFUND_REASONS), n))
    columns = {
        "id": join(
            ids("ref-", number, chunk.id_width), "-", pc.cast(pa.array(attempt + 1), pa.string())
        ),
        "order_id": order_ids(number, chunk.id_width),
        "amount_minor": ints(chunk.refund_amount),
        "currency": pa.repeat(tenant.currency, n),
        "reason": reason,
        "status": pick(("succeeded", "failed"), chunk.refund_failed.astype(np.int64)),
        "created_at": timestamps(chunk.refund_at, tenant.timezone),
    }
    return pa.record_batch(columns)
