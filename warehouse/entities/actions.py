"""Record actions that are writes: order status changes, refunds, customer notes.

Each runs under the write lock of the record it acts on, so two refunds of one order cannot
both pass the "never more than what is left" check, and lands everything it changes in one
batch (a refund and the order's new status land together, or not at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from warehouse.contracts import validate_records
from warehouse.controldb import transaction
from warehouse.entities import landing, orders, reader, resources
from warehouse.entities.changes import STATUS, Change, later, new_id
from warehouse.entities.claims import Claims, lock_kind
from warehouse.entities.errors import EntityConflict, EntityInvalid, EntityNotFound, raise_for
from warehouse.entities.records import to_api, to_wire
from warehouse.entities.resources import CUSTOMERS, ORDERS
from warehouse.entities.writes import Write, apply


@dataclass(frozen=True)
class RefundRequest:
    """What a client asks to refund; the server fills id, currency and created_at if omitted."""

    amount_minor: int
    reason: str | None = None
    status: str = "succeeded"
    currency: str | None = None
    id: str | None = None
    created_at: str | None = None


def update_status(write: Write, order_id: str, status: str) -> dict[str, Any]:
    """Move an order to ``status`` if the state machine allows it; return the new order."""
    change = Change(STATUS, 0, order_id, {"status": status})
    apply(write, ORDERS, [change])
    raise_for(change.status, change.errors)
    assert change.record is not None
    return change.record


def create_refund(write: Write, order_id: str, request: RefundRequest) -> dict[str, Any]:
    """Record a refund of an order and update its status; return ``{refund, order}``."""
    store, tenant = write.store, write.store.tenant_id
    refund_id = request.id or new_id("ref_", tenant, write.scope, write.key, 0)
    batches = landing.Batches.of(tenant, write.scope, write.key)
    with transaction(write.sessions, write=True) as session:
        locks = [(lock_kind("orders"), order_id, order_id)]
        Claims(session, tenant).acquire([*locks, (lock_kind("refunds"), refund_id, refund_id)])
        if write.key is None or not landing.landed(store, batches):
            order = _refundable(store, order_id, refund_id)
            tables = _refund_tables(store, order, refund_id, request)
            landing.land_upserts(store, batches.upserts, tables)
    refund = reader.by_keys(store, "refunds", [refund_id])
    if not refund:
        raise EntityNotFound([("id", "no such refund")])
    return {
        "refund": to_api("refunds", refund[0]),
        "order": resources.fetch_one(store, ORDERS, order_id),
    }


def _refundable(store, order_id: str, refund_id: str) -> dict[str, Any]:
    order = resources.fetch_one(store, ORDERS, order_id)
    if order is None:
        raise EntityNotFound([("id", "no such record")])
    if resources.existing_ids(store, "refunds", [refund_id]):
        raise EntityConflict([("id", "a refund with this id already exists")])
    if order["status"] not in orders.REFUNDABLE:
        allowed = ", ".join(sorted(orders.REFUNDABLE))
        reason = f"a {order['status']} order cannot be refunded; {allowed} orders can"
        raise EntityConflict([("status", reason)])
    return order


def _refund_tables(store, order: Mapping[str, Any], refund_id: str, request: RefundRequest):
    now = datetime.now(UTC)
    currency = request.currency or order["currency"]
    if currency != order["currency"]:
        raise EntityInvalid([("currency", f"must be the order's currency {order['currency']}")])
    refunded = refunded_minor(store, order["id"], order["currency"])
    left = order["total_minor"] - refunded
    if request.amount_minor > left:
        raise EntityInvalid([("amount_minor", f"exceeds what is left to refund ({left})")])
    record = {
        "id": refund_id,
        "order_id": order["id"],
        "amount_minor": request.amount_minor,
        "currency": currency,
        "reason": request.reason,
        "status": request.status,
        "created_at": request.created_at or now.isoformat(),
    }
    tables = _validated("refund", record)
    if request.status == "succeeded":
        status = orders.status_after_refund(order["total_minor"], refunded + request.amount_minor)
        updated = {**to_wire(order), "status": status, "updated_at": later(order, now)}
        tables.update(_validated("order", updated))
    return tables


def refunded_minor(store, order_id: str, currency: str) -> int:
    """Return how much of an order succeeded in refunds so far."""

    def build(query) -> str:
        order, money = query.bind("order", order_id), query.bind("currency", currency)
        return (
            "select coalesce(sum(amount_minor), 0) as total from refunds "
            f"where order_id = {order} and currency = {money} and status = 'succeeded'"
        )

    return int(reader.select(store, "refunds", build)[0]["total"])


def add_note(write: Write, customer_id: str, body: str, author: str | None) -> dict[str, Any]:
    """Attach a note to a customer; return the note."""
    store, tenant = write.store, write.store.tenant_id
    note_id = new_id("note_", tenant, write.scope, write.key, 0)
    batches = landing.Batches.of(tenant, write.scope, write.key)
    with transaction(write.sessions, write=True) as session:
        Claims(session, tenant).lock(CUSTOMERS.name, [customer_id])
        if write.key is None or not landing.landed(store, batches):
            if resources.fetch_one(store, CUSTOMERS, customer_id) is None:
                raise EntityNotFound([("id", "no such record")])
            note = {
                "id": note_id,
                "customer_id": customer_id,
                "body": body,
                "author": author,
                "created_at": datetime.now(UTC).isoformat(),
            }
            landing.land_upserts(store, batches.upserts, _validated("customer_note", note))
    return to_api("customer_notes", reader.by_keys(store, "customer_notes", [note_id])[0])


def _validated(contract: str, record: Mapping[str, Any]) -> dict:
    given = {name: value for name, value in record.items() if value is not None}
    tables, errors = validate_records(contract, [given])
    if errors:
        raise EntityInvalid([(error.field, error.reason) for error in errors])
    return dict(tables)
