"""Refunds through the API: never more than was captured, even under concurrent requests.

Three short transactions around one Stripe call: (1) under the payment's row lock, check the
amount against what was captured minus every refund holding or moving money, and *reserve* it
as a refund row; (2) ask Stripe, with an idempotency key derived from that row; (3) under the
lock again, record Stripe's answer and land it. A refused refund releases its reservation; a
refund whose outcome is unknown (Stripe unreachable) keeps it until a retry with the same
Idempotency-Key, or Stripe's webhook, settles it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse.controldb import transaction
from warehouse.controldb.models import Payment, PaymentRefund, utcnow
from warehouse.payments import intents, providers, records, states, store
from warehouse.payments.env import PaymentsEnv, stripe_idempotency_key
from warehouse.payments.errors import Conflict, Invalid, NotFound, ProviderError
from warehouse.payments.objects import (
    METADATA_ORDER,
    METADATA_REFUND,
    METADATA_TENANT,
    Refund,
)

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def create_refund(
    env: PaymentsEnv,
    tenant_id: int,
    payment_id: str,
    amount_minor: int | None,
    reason: str | None,
    key: str | None,
) -> tuple[PaymentRefund, bool]:
    """Refund all that is left, or ``amount_minor``, of a payment; return it and if it is new."""
    with transaction(env.sessions) as session:
        payment = _payment(session, tenant_id, payment_id)
        api_key, _methods = providers.secret_key(session, env.box, tenant_id)
        prior = _by_key(session, payment.id, key) if key else None
    if prior is not None:
        if amount_minor not in (None, prior.amount_minor) or reason not in (None, prior.reason):
            raise Invalid("Idempotency-Key", "already used for a different refund")
        if prior.status != "reserved":
            return prior, False
        return _ask_stripe(env, tenant_id, api_key, payment, prior), False
    # Stripe's view of what was captured is the one that counts: fetch it first.
    intent, _secret = env.gateway.retrieve_intent(api_key, payment.provider_payment_id)
    intents.observe(env, tenant_id, intent, store.observed_now())
    reserved = _reserve(env, tenant_id, payment_id, amount_minor, reason, key)
    return _ask_stripe(env, tenant_id, api_key, payment, reserved), True


def _payment(session: Session, tenant_id: int, payment_id: str, lock: bool = False) -> Payment:
    row = store.payment(session, tenant_id, payment_id, lock=lock)
    if row is None:
        raise NotFound("payment_id", "no such payment")
    return row


def _by_key(session: Session, payment_id: int, key: str) -> PaymentRefund | None:
    query = select(PaymentRefund).where(
        PaymentRefund.payment_id == payment_id, PaymentRefund.idempotency_key == key
    )
    return session.scalar(query)


def _reserve(env, tenant_id, payment_id, amount_minor, reason, key) -> PaymentRefund:
    try:
        with transaction(env.sessions, write=True) as session:
            payment = _payment(session, tenant_id, payment_id, lock=True)
            amount = _allowed_amount(session, payment, amount_minor)
            now = utcnow()
            row = PaymentRefund(
                tenant_id=tenant_id,
                payment_id=payment.id,
                reference=store.new_reference(),
                currency=payment.currency,
                amount_minor=amount,
                status="reserved",
                reason=reason,
                idempotency_key=key,
                state_at=now,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return row
    except IntegrityError:  # the same Idempotency-Key, sent twice at once
        raise Conflict("Idempotency-Key", "a refund with this key is being created") from None


def _allowed_amount(session: Session, payment: Payment, requested: int | None) -> int:
    if payment.status != "succeeded" or payment.amount_captured_minor <= 0:
        raise Conflict("payment_id", f"only a succeeded payment can be refunded ({payment.status})")
    held = [(r.status, r.amount_minor) for r in store.refunds(session, payment.id)]
    left = states.refundable(payment.amount_captured_minor, held)
    if left == 0:
        raise Conflict("amount_minor", "nothing left to refund: the payment is fully refunded")
    if requested is not None and requested > left:
        raise Invalid(
            "amount_minor",
            f"at most {left} can still be refunded ({payment.amount_captured_minor} captured)",
        )
    return requested if requested is not None else left


def _ask_stripe(env, tenant_id, api_key, payment: Payment, row: PaymentRefund) -> PaymentRefund:
    params = {
        "payment_intent": payment.provider_payment_id,
        "amount": row.amount_minor,
        "metadata": {
            METADATA_TENANT: str(tenant_id),
            METADATA_ORDER: payment.order_id,
            METADATA_REFUND: row.reference,
        },
    }
    if row.reason:
        params["reason"] = row.reason
    key = stripe_idempotency_key(tenant_id, "refund", row.reference)
    try:
        refund = env.gateway.create_refund(api_key, params, key)
    except ProviderError as exc:
        if exc.status < 500:  # refused for sure: nothing was refunded
            _release(env, tenant_id, payment.provider_payment_id, row.reference, exc.code)
        raise
    return settle(env, tenant_id, payment.provider_payment_id, refund)


def _release(env, tenant_id: int, payment_id: str, reference: str, code: str) -> None:
    with transaction(env.sessions, write=True) as session:
        payment = _payment(session, tenant_id, payment_id, lock=True)
        row = session.scalar(select(PaymentRefund).where(PaymentRefund.reference == reference))
        if row is None or row.status != "reserved":
            return
        row.status, row.failure_reason, row.state_at = "failed", code or "refused", utcnow()
        store.record(
            session,
            tenant_id,
            payment.id,
            source="api",
            type="refund.refused",
            object_id=reference,
            status="failed",
            amount_minor=row.amount_minor,
            outcome="applied",
            occurred_at=row.state_at,
        )


def settle(env: PaymentsEnv, tenant_id: int, payment_id: str, refund: Refund) -> PaymentRefund:
    """Record Stripe's answer to a refund request; land the refund and the payment."""
    with transaction(env.sessions, write=True) as session:
        payment = _payment(session, tenant_id, payment_id, lock=True)
        row, changed = store.apply_refund(session, payment, refund, refund.created)
        moved = store.recount_refunded(session, payment)
        store.record(
            session,
            tenant_id,
            payment.id,
            source="api",
            type="refund.created",
            object_id=refund.id,
            status=refund.status,
            amount_minor=refund.amount,
            outcome="applied" if changed else "stale",
            occurred_at=refund.created,
        )
        batch: records.Records = {}
        if changed:
            records.add(batch, "refund", records.refund_record(row, payment.order_id))
        if moved:
            records.add(batch, "payment", records.payment_record(payment))
        records.land(env.lake_root, tenant_id, f"payments-api:{uuid.uuid4().hex}", batch, "crud")
        return row
