"""Payment rows in the control DB: find and lock, apply provider observations, keep history.

Every ``apply_*`` function takes an observation (a Stripe object and the provider time it held
at), applies it only when :mod:`warehouse.payments.states` says it supersedes what is held,
and reports whether anything changed, so the caller lands a new version only then.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warehouse.controldb.models import (
    Payment,
    PaymentDispute,
    PaymentEvent,
    PaymentRefund,
    utcnow,
)
from warehouse.payments import states
from warehouse.payments.objects import METADATA_REFUND, Dispute, Intent, Refund
from warehouse.payments.providers import STRIPE


def payment(session: Session, tenant_id: int, provider_id: str, *, lock: bool = False):
    """Return the tenant's payment with this provider id (``pi_...``), optionally locked."""
    query = select(Payment).where(
        Payment.tenant_id == tenant_id,
        Payment.provider == STRIPE,
        Payment.provider_payment_id == provider_id,
    )
    return session.scalar(query.with_for_update() if lock else query)


def payment_by_charge(session: Session, tenant_id: int, charge_id: str) -> Payment | None:
    """Return the payment whose latest charge is ``charge_id`` (locked)."""
    query = select(Payment).where(
        Payment.tenant_id == tenant_id, Payment.latest_charge_id == charge_id
    )
    return session.scalar(query.with_for_update())


def order_payments(session: Session, tenant_id: int, order_id: str) -> list[Payment]:
    """Return an order's payments, oldest first."""
    query = select(Payment).where(Payment.tenant_id == tenant_id, Payment.order_id == order_id)
    return list(session.scalars(query.order_by(Payment.created_at, Payment.id)))


def refunds(session: Session, payment_id: int, *, lock: bool = False) -> list[PaymentRefund]:
    """Return a payment's refunds, oldest first."""
    query = select(PaymentRefund).where(PaymentRefund.payment_id == payment_id)
    query = query.order_by(PaymentRefund.created_at, PaymentRefund.id)
    return list(session.scalars(query.with_for_update() if lock else query))


def disputes(session: Session, payment_id: int) -> list[PaymentDispute]:
    """Return a payment's disputes, oldest first."""
    query = select(PaymentDispute).where(PaymentDispute.payment_id == payment_id)
    return list(session.scalars(query.order_by(PaymentDispute.created_at, PaymentDispute.id)))


def history(session: Session, payment_id: int) -> list[PaymentEvent]:
    """Return a payment's API actions and provider events in provider time order."""
    query = select(PaymentEvent).where(PaymentEvent.payment_id == payment_id)
    return list(session.scalars(query.order_by(PaymentEvent.occurred_at, PaymentEvent.id)))


def new_payment(tenant_id: int, order_id: str, intent: Intent) -> Payment:
    """Build (not add) the row for a PaymentIntent seen for the first time."""
    return Payment(
        tenant_id=tenant_id,
        provider=STRIPE,
        provider_payment_id=intent.id,
        order_id=order_id,
        currency=intent.currency,
        amount_minor=intent.amount,
        amount_captured_minor=0,
        amount_refunded_minor=0,
        status="pending",
        provider_status=intent.status,
        state_at=intent.created,
        created_at=intent.created,
    )


def apply_intent(row: Payment, intent: Intent, at: datetime, event_type: str | None = None) -> bool:
    """Apply a PaymentIntent observed at ``at``; return whether the payment changed."""
    status = states.payment_status(intent.status, event_type, failed=bool(intent.failure_code))
    held = states.Observed(row.status, row.state_at)
    if not states.payment_supersedes(held, states.Observed(status, at)):
        return False
    before = _payment_state(row)
    row.status, row.provider_status = status, intent.status
    row.amount_minor, row.currency = intent.amount, intent.currency
    row.amount_captured_minor = intent.amount_received
    row.failure_code = intent.failure_code if status == "failed" else None
    row.latest_charge_id = intent.latest_charge or row.latest_charge_id
    row.state_at = max(at, row.state_at)
    return _payment_state(row) != before


def _payment_state(row: Payment) -> tuple:
    return (
        row.status,
        row.provider_status,
        row.amount_minor,
        row.amount_captured_minor,
        row.failure_code,
        row.latest_charge_id,
    )


def apply_refund(
    session: Session, row: Payment, refund: Refund, at: datetime
) -> tuple[PaymentRefund, bool]:
    """Apply a Refund observed at ``at`` to its row (found by id or our reference, or new)."""
    found = _refund_row(session, row, refund)
    if found is None:
        found = PaymentRefund(
            tenant_id=row.tenant_id,
            payment_id=row.id,
            reference=new_reference(),
            status="reserved",
            currency=refund.currency,
            amount_minor=refund.amount,
            state_at=refund.created,
            created_at=refund.created,
        )
        session.add(found)
    held = states.Observed(found.status, found.state_at)
    if found.provider_refund_id is not None and not states.refund_supersedes(
        held, states.Observed(refund.status, at)
    ):
        return found, False
    before = (found.provider_refund_id, found.status, found.amount_minor, found.failure_reason)
    if found.provider_refund_id is None:
        # A reservation (our clock) takes Stripe's times once Stripe has answered.
        found.created_at, found.state_at = refund.created, at
    found.provider_refund_id = refund.id
    found.status, found.amount_minor = refund.status, refund.amount
    found.reason = refund.reason or found.reason
    found.failure_reason = refund.failure_reason
    found.state_at = max(at, found.state_at)
    session.flush()
    return found, before != (refund.id, refund.status, refund.amount, refund.failure_reason)


def _refund_row(session: Session, row: Payment, refund: Refund) -> PaymentRefund | None:
    query = select(PaymentRefund).where(
        PaymentRefund.tenant_id == row.tenant_id, PaymentRefund.provider_refund_id == refund.id
    )
    found = session.scalar(query.with_for_update())
    reference = refund.metadata.get(METADATA_REFUND)
    if found is None and reference:
        query = select(PaymentRefund).where(
            PaymentRefund.payment_id == row.id, PaymentRefund.reference == reference
        )
        found = session.scalar(query.with_for_update())
    return found


def recount_refunded(session: Session, row: Payment) -> bool:
    """Set the payment's refunded amount to the sum of its succeeded refunds; say if it moved."""
    total = session.scalar(
        select(func.coalesce(func.sum(PaymentRefund.amount_minor), 0)).where(
            PaymentRefund.payment_id == row.id, PaymentRefund.status == "succeeded"
        )
    )
    changed = int(total) != row.amount_refunded_minor
    row.amount_refunded_minor = int(total)
    return changed


def apply_dispute(
    session: Session, row: Payment, dispute: Dispute, at: datetime
) -> tuple[PaymentDispute, bool]:
    """Apply a Dispute observed at ``at``; return its row and whether it changed."""
    query = select(PaymentDispute).where(
        PaymentDispute.tenant_id == row.tenant_id,
        PaymentDispute.provider_dispute_id == dispute.id,
    )
    found = session.scalar(query.with_for_update())
    if found is None:
        found = PaymentDispute(
            tenant_id=row.tenant_id,
            payment_id=row.id,
            provider_dispute_id=dispute.id,
            state_at=at,
            created_at=dispute.created,
        )
        session.add(found)
    elif not states.dispute_supersedes(
        states.Observed(found.status, found.state_at), states.Observed(dispute.status, at)
    ):
        return found, False
    before = (found.status, found.amount_minor, found.reason)
    found.status, found.amount_minor, found.currency = (
        dispute.status,
        dispute.amount,
        dispute.currency,
    )
    found.reason = dispute.reason
    found.state_at = max(at, found.state_at)
    session.flush()
    return found, before != (dispute.status, dispute.amount, dispute.reason)


def record(session: Session, tenant_id: int, payment_id: int | None, **fields) -> PaymentEvent:
    """Add one history entry (an API action or a provider event)."""
    entry = PaymentEvent(tenant_id=tenant_id, payment_id=payment_id, provider=STRIPE, **fields)
    entry.received_at = utcnow()
    session.add(entry)
    session.flush()
    return entry


def observed_now() -> datetime:
    """Return the time to stamp a state fetched from Stripe with, in Stripe's whole seconds.

    Stripe's times are whole seconds; ours truncated likewise make a tie, which the status
    ranks decide, instead of a sub-second lead that would make a same-second event stale.
    """
    return utcnow().replace(microsecond=0)


def new_reference() -> str:
    """Return a fresh public refund id (also Stripe idempotency material and metadata)."""
    return f"rfd_{uuid.uuid4().hex}"
