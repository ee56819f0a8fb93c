"""Land Stripe payments as the payments code does: a version per state change, refunds landed
with the payment version that counts them, and versions that arrive out of order.

Orders are picked once (choose_orders). First wave (before the first dbt run): payments the
incremental run must merge new versions into. Second wave: a stale version of a held payment,
refunds of held and new payments, a canceled payment followed by a pending one with a later
clock, a failed/pending tie, a payment of an order deleted meanwhile, and deletes (one dropping
a held payment, one followed by a new version that starts the payment afresh).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tests.integration.marts_reference import raw
from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import batch_id_for, land_batch

T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
PROVIDER_STATUS = {
    "pending": "requires_payment_method",
    "succeeded": "succeeded",
    "failed": "requires_payment_method",
    "canceled": "canceled",
}


def _at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def payment(order: dict, payment_id: str, status: str, minutes: int, **amounts) -> dict:
    """Return a payment record of ``order`` in ``status`` at T0 + ``minutes``."""
    return {
        "id": payment_id, "order_id": order["id"], "provider": "stripe", "status": status,
        "provider_status": PROVIDER_STATUS[status], "currency": order["currency"],
        "amount_minor": order["total_minor"], "amount_captured_minor": amounts.get("captured", 0),
        "amount_refunded_minor": amounts.get("refunded", 0),
        "failure_code": "card_declined" if status == "failed" else None,
        "created_at": _at(0), "updated_at": _at(minutes),
    }  # fmt: skip


def refund(order: dict, refund_id: str, amount: int, minutes: int) -> dict:
    """Return a succeeded Stripe refund record of ``order``."""
    return {"id": refund_id, "order_id": order["id"], "amount_minor": amount,
            "currency": order["currency"], "reason": "requested_by_customer",
            "status": "succeeded", "created_at": _at(minutes)}  # fmt: skip


def land(lake: Path, tenant_id: int, name: str, records: dict[str, list[dict]]) -> None:
    """Land records of several contracts as one batch, as the payments code does."""
    tables = {}
    for contract, rows in records.items():
        validated, errors = validate_records(contract, rows)
        assert not errors, errors
        tables.update(validated)
    batch = batch_id_for(tenant_id, f"reference-test:payments:{name}", 0)
    land_batch(lake, tenant_id, batch, tables, source="webhook")


def choose_orders(lake: Path, tenant_id: int) -> dict[str, dict]:
    """Pick the orders to pay, once, before the second wave changes any: the last fulfilled
    and cancelled ones by id (the first ones are what changes.py updates and deletes)."""
    orders = raw.current(lake, "orders").filter(pl.col("tenant_id") == tenant_id).sort("id")
    fulfilled = orders.filter(pl.col("status") == "fulfilled").rows(named=True)[-6:]
    cancelled = orders.filter(pl.col("status") == "cancelled").rows(named=True)[-2:]
    assert len(fulfilled) == 6 and len(cancelled) == 2, "too few orders to pay"
    # e and g are cancelled orders: whatever money they have comes from Stripe alone.
    return dict(zip("abcfhj", fulfilled, strict=True)) | dict(zip("eg", cancelled, strict=True))


def land_first_payments(lake: Path, tenant_id: int, orders: dict[str, dict]) -> None:
    """Land the first wave: payments held by the first build."""
    a, b, c, h = orders["a"], orders["b"], orders["c"], orders["h"]
    _pay(lake, tenant_id, "p1-pending", payment(a, "pi_1", "pending", 0))
    _pay(lake, tenant_id, "p1-paid", payment(a, "pi_1", "succeeded", 1, captured=a["total_minor"]))
    _pay(lake, tenant_id, "p2-paid", payment(b, "pi_2", "succeeded", 2, captured=b["total_minor"]))
    _pay(lake, tenant_id, "p3-paid", payment(c, "pi_3", "succeeded", 3, captured=c["total_minor"]))
    _pay(lake, tenant_id, "p10-paid", payment(h, "pi_10", "succeeded", 4))


def land_second_payments(
    lake: Path, tenant_id: int, orders: dict[str, dict], deleted_order: str
) -> None:
    """Land the second wave (see the module docstring)."""
    b, c, e, f, g, j = (orders[k] for k in "bcefgj")
    # A stale version of a held payment lands late: the succeeded state stays.
    _pay(lake, tenant_id, "p2-stale", payment(b, "pi_2", "pending", 1))
    # A partial refund of an order whose own version does not change.
    part = c["total_minor"] * 2 // 5
    refunded = payment(c, "pi_3", "succeeded", 3, captured=c["total_minor"], refunded=part)
    _pay(lake, tenant_id, "p3-refund", refunded, refund(c, "re_3", part, 30))
    # Canceled is final: a pending version with a later clock does not reopen it.
    _pay(lake, tenant_id, "p5-canceled", payment(e, "pi_5", "canceled", 10))
    _pay(lake, tenant_id, "p5-late", payment(e, "pi_5", "pending", 20))
    # Paid, then refunded in full.
    total = f["total_minor"]
    _pay(lake, tenant_id, "p6-paid", payment(f, "pi_6", "succeeded", 5, captured=total))
    refunded = payment(f, "pi_6", "succeeded", 5, captured=total, refunded=total)
    _pay(lake, tenant_id, "p6-refund", refunded, refund(f, "re_6", total, 40))
    # Same provider second: failed ranks above pending, whatever landed last.
    _pay(lake, tenant_id, "p7-failed", payment(g, "pi_7", "failed", 5))
    _pay(lake, tenant_id, "p7-pending", payment(g, "pi_7", "pending", 5))
    # A payment of an order the merchant deleted: kept, the order is gone.
    gone = {"id": deleted_order, "currency": c["currency"], "total_minor": 1000}
    _pay(lake, tenant_id, "p8", payment(gone, "pi_8", "succeeded", 6, captured=1000))
    # Deleted, then a new version: the payment starts afresh from that version.
    _pay(lake, tenant_id, "p9-paid", payment(j, "pi_9", "succeeded", 9))
    _delete(lake, tenant_id, "p9-delete", "pi_9")
    _pay(lake, tenant_id, "p9-again", payment(j, "pi_9", "pending", 1))
    _delete(lake, tenant_id, "p10-delete", "pi_10")


def _pay(lake: Path, tenant_id: int, name: str, record: dict, with_refund: dict | None = None):
    records = {"payment": [record]} | ({"refund": [with_refund]} if with_refund else {})
    land(lake, tenant_id, name, records)


def _delete(lake: Path, tenant_id: int, name: str, payment_id: str) -> None:
    tables = CONTRACTS["payment"].delete_tables([payment_id])
    batch = batch_id_for(tenant_id, f"reference-test:payments:{name}", 0)
    land_batch(lake, tenant_id, batch, tables, source="crud", op="delete")
