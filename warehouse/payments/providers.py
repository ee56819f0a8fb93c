"""Per-tenant payment provider settings: Stripe secrets sealed at rest, enabled payment methods.

Secrets go in through :func:`update_stripe` and come out only as a :class:`StripeAccount` for
the code that calls Stripe or verifies a webhook; :func:`describe` says what is configured
without a single character of either secret.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.controldb.models import PaymentProvider
from warehouse.payments.crypto import SecretBox, SecretUnreadable
from warehouse.payments.errors import Conflict, Invalid

STRIPE = "stripe"
DEFAULT_METHODS = ("card",)
# Stripe's payment_method_types for PaymentIntents; a typo fails here, not at checkout.
_METHOD_NAMES = """acss_debit affirm afterpay_clearpay alipay au_becs_debit bacs_debit bancontact
    blik boleto card cashapp customer_balance eps fpx giropay grabpay ideal klarna konbini link
    mobilepay multibanco oxxo p24 paynow paypal pix promptpay revolut_pay sepa_debit sofort swish
    twint us_bank_account wechat_pay zip"""
PAYMENT_METHODS = frozenset(_METHOD_NAMES.split())
SECRET_KEY = re.compile(r"^(?:sk|rk)_(test|live)_[A-Za-z0-9]{8,240}$")
WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{8,240}$")


@dataclass(frozen=True)
class StripeAccount:
    """A tenant's opened Stripe secrets (never printed: repr leaves them out)."""

    secret_key: str | None = field(repr=False)
    webhook_secret: str | None = field(repr=False)
    payment_methods: tuple[str, ...] = DEFAULT_METHODS


def _context(tenant_id: int, name: str) -> str:
    return f"tenant:{tenant_id}:{STRIPE}:{name}"


def find(session: Session, tenant_id: int, *, lock: bool = False) -> PaymentProvider | None:
    """Return the tenant's Stripe settings row, if any."""
    query = select(PaymentProvider).where(
        PaymentProvider.tenant_id == tenant_id, PaymentProvider.provider == STRIPE
    )
    return session.scalar(query.with_for_update() if lock else query)


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Validate payment method types: known to Stripe, no repeats, at least one."""
    unknown = sorted(set(methods) - PAYMENT_METHODS)
    if unknown:
        raise Invalid("payment_methods", f"unknown payment method type(s): {', '.join(unknown)}")
    if not methods or len(set(methods)) != len(methods):
        raise Invalid("payment_methods", "give at least one method, each once")
    return tuple(methods)


def update_stripe(
    session: Session, box: SecretBox, tenant_id: int, changes: dict[str, Any]
) -> PaymentProvider:
    """Set any of ``secret_key``, ``webhook_secret``, ``payment_methods``; others stay."""
    row = find(session, tenant_id, lock=True)
    if row is None:
        row = PaymentProvider(
            tenant_id=tenant_id, provider=STRIPE, payment_methods=list(DEFAULT_METHODS)
        )
        session.add(row)
    if "secret_key" in changes:
        key = changes["secret_key"]
        match = SECRET_KEY.match(key)
        if match is None:  # the message must not quote the value
            raise Invalid("secret_key", "expected a Stripe secret key (sk_test_..., sk_live_...)")
        row.secret_key_encrypted = box.seal(key, _context(tenant_id, "secret_key"))
        row.mode = match.group(1)
    if "webhook_secret" in changes:
        if WEBHOOK_SECRET.match(changes["webhook_secret"]) is None:
            raise Invalid("webhook_secret", "expected a webhook signing secret (whsec_...)")
        sealed = box.seal(changes["webhook_secret"], _context(tenant_id, "webhook_secret"))
        row.webhook_secret_encrypted = sealed
    if "payment_methods" in changes:
        row.payment_methods = list(check_methods(changes["payment_methods"]))
    session.flush()
    return row


def account(session: Session, box: SecretBox, tenant_id: int) -> StripeAccount:
    """Open the tenant's Stripe secrets (either may be None when not set yet)."""
    row = find(session, tenant_id)
    if row is None:
        return StripeAccount(None, None)
    return StripeAccount(
        _open(box, row.secret_key_encrypted, _context(tenant_id, "secret_key")),
        _open(box, row.webhook_secret_encrypted, _context(tenant_id, "webhook_secret")),
        tuple(row.payment_methods or DEFAULT_METHODS),
    )


def secret_key(session: Session, box: SecretBox, tenant_id: int) -> tuple[str, tuple[str, ...]]:
    """Return the secret key and enabled methods, or refuse: payments are not set up."""
    opened = account(session, box, tenant_id)
    if opened.secret_key is None:
        raise Conflict("secret_key", "Stripe is not configured for this tenant")
    return opened.secret_key, opened.payment_methods


def _open(box: SecretBox, sealed: str | None, context: str) -> str | None:
    if sealed is None:
        return None
    try:
        return box.open(sealed, context)
    except SecretUnreadable:
        # Rotated away or tampered: the tenant must enter the secret again.
        raise Conflict(
            context.rsplit(":", 1)[-1], "stored secret cannot be decrypted; set it again"
        ) from None


def describe(row: PaymentProvider | None) -> dict[str, Any]:
    """Say what is configured, without any secret."""
    return {
        "provider": STRIPE,
        "mode": row.mode if row else None,
        "secret_key_set": bool(row and row.secret_key_encrypted),
        "webhook_secret_set": bool(row and row.webhook_secret_encrypted),
        "payment_methods": list(row.payment_methods) if row else list(DEFAULT_METHODS),
        "updated_at": row.updated_at if row else None,
    }
