"""PaymentIntents through the API: create one for an order, and record what Stripe says.

Creating is idempotent per order: the Stripe idempotency key derives from (tenant, order,
attempt), and an order whose payment is still open gets that payment back (with a fresh
client secret) instead of a second one. The amount and currency always come from the order in
the lake; a succeeded payment makes the order unpayable, a canceled one allows a new attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse.controldb import transaction
from warehouse.controldb.models import Payment
from warehouse.payments import providers, records, store
from warehouse.payments.env import PaymentsEnv, stripe_idempotency_key
from warehouse.payments.errors import Conflict, Invalid
from warehouse.payments.objects import METADATA_ORDER, METADATA_TENANT, Intent
from warehouse.payments.orders import OrderAmount, latest_order

UNPAYABLE_ORDERS = frozenset({"cancelled", "refunded"})


@dataclass(frozen=True)
class IntentResult:
    """A payment, the client secret to confirm it with, and whether it was created now."""

    payment: Payment
    client_secret: str | None
    created: bool


def create_intent(
    env: PaymentsEnv, tenant_id: int, order_id: str, methods: Sequence[str] | None = None
) -> IntentResult:
    """Create (or return the open) PaymentIntent of an order."""
    with transaction(env.sessions) as session:
        api_key, enabled = providers.secret_key(session, env.box, tenant_id)
        earlier = store.order_payments(session, tenant_id, order_id)
    chosen = _methods(methods, enabled)
    order = latest_order(env.lake_root, tenant_id, order_id)
    open_payments = [p for p in earlier if p.status != "canceled"]
    if open_payments:
        return _reuse(env, tenant_id, api_key, open_payments[-1], order)
    _check_payable(order)
    params = {
        "amount": order.total_minor,
        "currency": order.currency.lower(),
        "payment_method_types": list(chosen),
        "metadata": {METADATA_TENANT: str(tenant_id), METADATA_ORDER: order_id},
    }
    # Canceled attempts count, so a new attempt after a cancel gets a new intent.
    ours = f"order:{order_id}:attempt:{len(earlier)}"
    key = stripe_idempotency_key(tenant_id, "payment_intent", ours)
    intent, client_secret = env.gateway.create_intent(api_key, params, key)
    payment = observe(env, tenant_id, intent, intent.created, order_id, "payment_intent.created")
    return IntentResult(payment, client_secret, True)


def _methods(requested: Sequence[str] | None, enabled: tuple[str, ...]) -> tuple[str, ...]:
    if requested is None:
        return enabled
    chosen = providers.check_methods(requested)
    off = sorted(set(chosen) - set(enabled))
    if off:
        raise Invalid("payment_methods", f"not enabled for this tenant: {', '.join(off)}")
    return chosen


def _check_payable(order: OrderAmount) -> None:
    if order.status in UNPAYABLE_ORDERS:
        raise Conflict("order_id", f"the order is {order.status}")
    if order.total_minor <= 0:
        raise Invalid("order_id", "the order's total is zero; there is nothing to pay")


def _reuse(
    env: PaymentsEnv, tenant_id: int, api_key: str, payment: Payment, order: OrderAmount
) -> IntentResult:
    if payment.status != "succeeded":
        # Stripe may know better (a success whose webhook is still on its way).
        intent, client_secret = env.gateway.retrieve_intent(api_key, payment.provider_payment_id)
        payment = observe(env, tenant_id, intent, store.observed_now(), payment.order_id)
    if payment.status == "succeeded":
        raise Conflict("order_id", f"the order is already paid ({payment.provider_payment_id})")
    if (payment.amount_minor, payment.currency) != (order.total_minor, order.currency):
        raise Conflict(
            "order_id",
            f"the order total changed since {payment.provider_payment_id} was created; "
            "cancel that payment in Stripe first",
        )
    return IntentResult(payment, client_secret, False)


def observe(
    env: PaymentsEnv,
    tenant_id: int,
    intent: Intent,
    at: datetime,
    order_id: str | None = None,
    action: str | None = None,
) -> Payment:
    """Record a PaymentIntent as Stripe reported it at ``at``; land a version if it changed."""
    for attempt in range(2):
        try:
            with transaction(env.sessions, write=True) as session:
                return _observe(session, env, tenant_id, intent, at, order_id, action)
        except IntegrityError:
            # A webhook recorded the same intent first (PostgreSQL); the retry finds its row.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _observe(session: Session, env, tenant_id, intent, at, order_id, action) -> Payment:
    row = store.payment(session, tenant_id, intent.id, lock=True)
    if row is None:
        row = store.new_payment(tenant_id, order_id or intent.metadata[METADATA_ORDER], intent)
        session.add(row)
        session.flush()
        store.apply_intent(row, intent, at)
        changed = True  # a first sighting always lands
    else:
        changed = store.apply_intent(row, intent, at)
    if action is not None:
        store.record(
            session,
            tenant_id,
            row.id,
            source="api",
            type=action,
            object_id=intent.id,
            status=row.status,
            amount_minor=row.amount_minor,
            outcome="applied",
            occurred_at=at,
        )
    if changed:
        batch = {"payment": [records.payment_record(row)]}
        records.land(env.lake_root, tenant_id, f"payments-api:{uuid.uuid4().hex}", batch, "crud")
    return row
