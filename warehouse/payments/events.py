"""Apply one verified Stripe event to the control DB and say which records it lands.

Runs inside the caller's write transaction. An event id is applied once per tenant (a replay
is reported as ``duplicate`` and changes nothing); an event older than the state it concerns
changes nothing (``stale``); an event about a payment this tenant does not know is kept as
``unmatched``. The handled types are those in :data:`HANDLED`; others are acknowledged and
ignored, so a Stripe endpoint sending every event type does no harm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.controldb.models import Payment, PaymentEvent
from warehouse.payments import records, store
from warehouse.payments.objects import (
    METADATA_ORDER,
    METADATA_TENANT,
    charge_refunds,
    dispute_from,
    intent_from,
    refund_from,
    stripe_time,
)
from warehouse.payments.providers import STRIPE

INTENT_EVENTS = frozenset(
    {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}
)
REFUND_EVENTS = frozenset(
    {"charge.refund.updated", "refund.created", "refund.updated", "refund.failed"}
)
DISPUTE_EVENTS = frozenset(
    {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}
)
CHARGE_REFUNDED = "charge.refunded"
HANDLED = INTENT_EVENTS | REFUND_EVENTS | DISPUTE_EVENTS | {CHARGE_REFUNDED}

Change = tuple[Payment | None, bool, records.Records]


@dataclass
class Applied:
    """What an event did: outcome, the payment it concerned, and the records to land."""

    outcome: str  # applied | stale | unmatched | duplicate | ignored
    payment_id: str | None = None
    records: records.Records = field(default_factory=dict)


def apply_event(session: Session, tenant_id: int, event: Mapping[str, Any]) -> Applied:
    """Apply a verified event of ``tenant_id`` (see the module docstring for outcomes)."""
    kind = event["type"]
    if kind not in HANDLED:
        return Applied("ignored")
    if _seen(session, tenant_id, event["id"]):
        return Applied("duplicate")
    obj, at = event["data"]["object"], stripe_time(event["created"])
    # Recorded first: a concurrent delivery of the same event waits on this row's key.
    entry = store.record(
        session,
        tenant_id,
        None,
        source="webhook",
        event_id=event["id"],
        type=kind,
        object_id=obj["id"],
        status=obj.get("status"),
        amount_minor=obj.get("amount"),
        outcome="unmatched",
        occurred_at=at,
    )
    payment, changed, batch = _handler(kind)(session, tenant_id, kind, obj, at)
    entry.outcome = "unmatched" if payment is None else "applied" if changed else "stale"
    entry.payment_id = payment.id if payment is not None else None
    records.add(batch, "payment_event", records.event_record(event, entry.outcome, payment))
    return Applied(entry.outcome, payment.provider_payment_id if payment else None, batch)


def _seen(session: Session, tenant_id: int, event_id: str) -> bool:
    query = select(PaymentEvent.id).where(
        PaymentEvent.tenant_id == tenant_id,
        PaymentEvent.provider == STRIPE,
        PaymentEvent.event_id == event_id,
    )
    return session.scalar(query) is not None


def _handler(kind: str) -> Callable[..., Change]:
    if kind in INTENT_EVENTS:
        return _on_intent
    if kind in REFUND_EVENTS:
        return _on_refund
    if kind in DISPUTE_EVENTS:
        return _on_dispute
    return _on_charge_refunded


def _on_intent(session: Session, tenant_id: int, kind: str, obj: dict, at: datetime) -> Change:
    intent = intent_from(obj)
    row = store.payment(session, tenant_id, intent.id, lock=True)
    if row is None:
        order_id = _claimed_order(tenant_id, intent.metadata)
        if order_id is None:
            return None, False, {}
        row = store.new_payment(tenant_id, order_id, intent)
        session.add(row)
        session.flush()
        store.apply_intent(row, intent, at, kind)
        changed = True  # a first sighting always lands
    else:
        changed = store.apply_intent(row, intent, at, kind)
    return row, changed, {"payment": [records.payment_record(row)]} if changed else {}


def _claimed_order(tenant_id: int, metadata: dict[str, str]) -> str | None:
    # An intent created outside our API is taken on when its metadata names the order (and,
    # if it names a tenant, this one).
    if metadata.get(METADATA_TENANT, str(tenant_id)) != str(tenant_id):
        return None
    return metadata.get(METADATA_ORDER) or None


def _payment_of(session: Session, tenant_id: int, intent_id, charge_id) -> Payment | None:
    row = store.payment(session, tenant_id, intent_id, lock=True) if intent_id else None
    if row is None and charge_id:
        row = store.payment_by_charge(session, tenant_id, charge_id)
    return row


def _on_refund(session: Session, tenant_id: int, _kind: str, obj: dict, at: datetime) -> Change:
    refund = refund_from(obj)
    row = _payment_of(session, tenant_id, refund.payment_intent, refund.charge)
    if row is None:
        return None, False, {}
    return _refunds_changed(session, row, [refund], at)


def _on_charge_refunded(session: Session, tenant_id: int, _kind, obj: dict, at) -> Change:
    row = _payment_of(session, tenant_id, obj.get("payment_intent"), obj["id"])
    if row is None:
        return None, False, {}
    # Newer API versions leave the refunds out of the charge: then refund.* events carry them.
    return _refunds_changed(session, row, charge_refunds(obj), at)


def _refunds_changed(session: Session, row: Payment, refunds: list, at: datetime) -> Change:
    batch: records.Records = {}
    changed = False
    for refund in refunds:
        refund_row, moved = store.apply_refund(session, row, refund, at)
        if moved:
            records.add(batch, "refund", records.refund_record(refund_row, row.order_id))
        changed = changed or moved
    if store.recount_refunded(session, row):
        records.add(batch, "payment", records.payment_record(row))
    return row, changed, batch


def _on_dispute(session: Session, tenant_id: int, _kind: str, obj: dict, at: datetime) -> Change:
    dispute = dispute_from(obj)
    row = _payment_of(session, tenant_id, dispute.payment_intent, dispute.charge)
    if row is None:
        return None, False, {}
    dispute_row, changed = store.apply_dispute(session, row, dispute, at)
    batch = {"dispute": [records.dispute_record(dispute_row, row)]} if changed else {}
    return row, changed, batch
