"""Stripe webhooks: ``POST /api/v1/webhooks/stripe/<tenant_slug>/``, no credentials.

The signature (checked with the tenant's own signing secret) is the authentication: a bad,
stale or foreign signature is a 400 that names no reason (the reason goes to the log, never
the payload). A replayed event is acknowledged with 200 and changes nothing. Deliveries are
rate limited per tenant, by their own budget.
"""

from __future__ import annotations

from flask import Blueprint, request

from ingestion.webhooks import SIGNATURE_HEADER, receive_stripe
from serving.api import operation
from serving.blueprints.payments import payments_env
from serving.protection import from_setting, path_rule
from serving.schemas.payments import WebhookReceipt

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks")

STRIPE_PATH = "/api/v1/webhooks/stripe/<tenant_slug>/"


def _tenant_slug_key() -> str:
    # Bounded, so made-up slugs cannot grow a key past what a real slug can be.
    slug = str((request.view_args or {}).get("tenant_slug", ""))[:63].lower()
    return f"webhook:stripe:{slug}"


STRIPE_DELIVERIES = path_rule(
    "stripe-webhooks",
    from_setting("ratelimit_webhooks"),
    paths=(STRIPE_PATH,),
    methods=("POST",),
    key=_tenant_slug_key,
    message="Too many webhook deliveries for this tenant.",
    replaces_address=True,
)


@bp.post("/stripe/<tenant_slug>/")
@operation(response=WebhookReceipt, errors=(400,), public=True)
def stripe_webhook(tenant_slug: str) -> WebhookReceipt:
    """Receive a Stripe event for a tenant, verified by its webhook signing secret.

    Handles payment_intent.succeeded / payment_failed / canceled, charge.refunded,
    charge.refund.updated, refund.created / updated / failed and charge.dispute.created /
    updated / closed; other types are acknowledged and ignored.
    """
    payload = request.get_data(cache=False)
    receipt = receive_stripe(
        payments_env(), tenant_slug, payload, request.headers.get(SIGNATURE_HEADER)
    )
    return WebhookReceipt(
        event_id=receipt.event_id,
        type=receipt.type,
        outcome=receipt.outcome,
        payment_id=receipt.payment_id,
    )
