"""Stripe webhooks: verify the signature with the tenant's secret, apply, land once per event.

An event goes through the one write path like any ingest: its records are validated against
their contracts and landed as one batch keyed by the Stripe event id (``stripe:<id>``), so a
replay (Stripe retries for three days) finds the batch landed and the event recorded, and
changes nothing. State is applied and landed in one control-DB transaction under the payment's
row lock, so concurrent deliveries land versions in state order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from warehouse.controldb import transaction
from warehouse.controldb.models import Tenant
from warehouse.errors import ServiceError
from warehouse.payments import PaymentsEnv, apply_event, providers, records
from warehouse.payments.stripe_client import SignatureInvalid, verify_event

log = logging.getLogger("shoplake.webhooks")

SIGNATURE_HEADER = "Stripe-Signature"


class WebhookRejected(ServiceError):
    """The delivery is not a genuine, fresh event for this tenant (the reason stays in logs)."""

    status = 400

    def __init__(self) -> None:
        super().__init__(SIGNATURE_HEADER, "the signature could not be verified")


@dataclass(frozen=True)
class Receipt:
    """How a delivery was handled (the webhook's response body)."""

    event_id: str
    type: str
    outcome: str
    payment_id: str | None = None
    batch_id: str | None = None


def event_key(event_id: str) -> str:
    """Return the idempotency key a Stripe event lands under."""
    return f"stripe:{event_id}"


def receive_stripe(env: PaymentsEnv, tenant_slug: str, payload: bytes, signature: str | None):
    """Verify a delivery for the tenant named in its URL, then apply and land it."""
    tenant_id, secret = _tenant_secret(env, tenant_slug)
    try:
        event = verify_event(payload, signature, secret, env.webhook_tolerance)
        _check_shape(event)
    except SignatureInvalid as exc:
        _rejected(tenant_slug, str(exc))
    return receive_event(env, tenant_id, event)


def _tenant_secret(env: PaymentsEnv, tenant_slug: str) -> tuple[int, str]:
    with transaction(env.sessions) as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
        secret = None
        if tenant_id is not None:
            secret = providers.account(session, env.box, tenant_id).webhook_secret
    if tenant_id is None:
        _rejected(tenant_slug, "unknown tenant")
    if secret is None:
        _rejected(tenant_slug, "no webhook secret configured")
    return tenant_id, secret


def _rejected(tenant_slug: str, reason: str) -> NoReturn:
    # Neither the payload nor the signature header is logged: only who and why.
    log.warning("stripe webhook rejected", extra={"tenant_slug": tenant_slug, "reason": reason})
    raise WebhookRejected()


def _check_shape(event: Mapping[str, Any]) -> None:
    obj = event.get("data", {}).get("object")
    well_formed = (
        isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(obj, Mapping)
        and isinstance(obj.get("id"), str)
    )
    if not well_formed:
        raise SignatureInvalid("payload is not an event")


def receive_event(env: PaymentsEnv, tenant_id: int, event: Mapping[str, Any]) -> Receipt:
    """Apply a verified event and land its records under the event's key."""
    for attempt in range(2):
        try:
            return _receive(env, tenant_id, event)
        except IntegrityError:
            # The same event, delivered twice at once, committed first elsewhere: the
            # retry sees it as a duplicate.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _receive(env: PaymentsEnv, tenant_id: int, event: Mapping[str, Any]) -> Receipt:
    with transaction(env.sessions, write=True) as session:
        applied = apply_event(session, tenant_id, event)
        landed = records.land(
            env.lake_root, tenant_id, event_key(event["id"]), applied.records, "webhook"
        )
    receipt = Receipt(
        event["id"],
        event["type"],
        applied.outcome,
        applied.payment_id,
        landed.batch_id if landed else None,
    )
    log.info(
        "stripe event received",
        extra={"event_id": receipt.event_id, "type": receipt.type, "outcome": receipt.outcome},
    )
    return receipt
