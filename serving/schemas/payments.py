"""Request and response models for /api/v1/payments/ and the Stripe webhook.

No model here has a field for a stored secret: settings are described by what is set, never
by value. A PaymentIntent's client secret (for the shopper's browser, not a tenant secret) is
returned only by ``POST /payments/intents/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from serving.api import Body, Out
from serving.pagination import Page, Paginated
from warehouse.controldb.models import Payment, PaymentDispute, PaymentEvent, PaymentRefund

MethodList = list[str]


class PaymentSettingsIn(Body):
    """Fields left out keep their current value."""

    secret_key: str | None = Field(
        None, min_length=1, max_length=255, description="Stripe secret key (sk_test_/sk_live_)."
    )
    webhook_secret: str | None = Field(
        None, min_length=1, max_length=255, description="Webhook signing secret (whsec_...)."
    )
    payment_methods: MethodList | None = Field(
        None, min_length=1, max_length=40, description="Enabled Stripe payment method types."
    )


class PaymentSettingsOut(Out):
    provider: str
    mode: Literal["test", "live"] | None = Field(description="From the secret key's prefix.")
    secret_key_set: bool
    webhook_secret_set: bool
    payment_methods: MethodList
    webhook_path: str = Field(description="Where to point the Stripe webhook endpoint.")
    updated_at: datetime | None


class IntentCreate(Body):
    order_id: str = Field(min_length=1, max_length=128, description="The order to pay.")
    payment_methods: MethodList | None = Field(
        None, min_length=1, max_length=40, description="A subset of the enabled methods."
    )


class RefundCreate(Body):
    amount_minor: int | None = Field(
        None, ge=1, description="Minor units to refund; omitted: all that is left."
    )
    reason: Literal["duplicate", "fraudulent", "requested_by_customer"] | None = None


def refund_status(payment: Payment) -> str:
    """Say how much of what was captured went back: none, partially_refunded or refunded."""
    refunded, captured = payment.amount_refunded_minor, payment.amount_captured_minor
    if refunded <= 0:
        return "none"
    return "refunded" if refunded >= captured else "partially_refunded"


class PaymentOut(Out):
    id: str = Field(description="Stripe PaymentIntent id.")
    order_id: str
    provider: str
    status: Literal["pending", "succeeded", "failed", "canceled"]
    provider_status: str
    refund_status: Literal["none", "partially_refunded", "refunded"]
    currency: str
    amount_minor: int
    amount_captured_minor: int
    amount_refunded_minor: int
    failure_code: str | None
    created_at: datetime
    updated_at: datetime = Field(description="Provider time of the current state.")

    @classmethod
    def of(cls, row: Payment) -> PaymentOut:
        """Describe a payment row."""
        return cls(
            id=row.provider_payment_id,
            order_id=row.order_id,
            provider=row.provider,
            status=row.status,  # type: ignore[arg-type]
            provider_status=row.provider_status,
            refund_status=refund_status(row),  # type: ignore[arg-type]
            currency=row.currency,
            amount_minor=row.amount_minor,
            amount_captured_minor=row.amount_captured_minor,
            amount_refunded_minor=row.amount_refunded_minor,
            failure_code=row.failure_code,
            created_at=row.created_at,
            updated_at=row.state_at,
        )


class PaymentCreated(PaymentOut):
    client_secret: str | None = Field(
        description="For Stripe.js in the shopper's browser to confirm the payment."
    )


class RefundOut(Out):
    id: str = Field(description="shoplake's refund id (rfd_...).")
    provider_refund_id: str | None = Field(description="Stripe's refund id, once it answered.")
    payment_id: str
    amount_minor: int
    currency: str
    status: str = Field(description="reserved, pending, requires_action, succeeded, failed...")
    reason: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PaymentRefund, payment_id: str) -> RefundOut:
        """Describe a refund row of the payment ``payment_id``."""
        return cls(
            id=row.reference,
            provider_refund_id=row.provider_refund_id,
            payment_id=payment_id,
            amount_minor=row.amount_minor,
            currency=row.currency,
            status=row.status,
            reason=row.reason,
            failure_reason=row.failure_reason,
            created_at=row.created_at,
            updated_at=row.state_at,
        )


class DisputeOut(Out):
    id: str
    amount_minor: int
    currency: str
    status: str
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: PaymentDispute) -> DisputeOut:
        """Describe a dispute row."""
        return cls(
            id=row.provider_dispute_id,
            amount_minor=row.amount_minor,
            currency=row.currency,
            status=row.status,
            reason=row.reason,
            created_at=row.created_at,
            updated_at=row.state_at,
        )


class HistoryOut(Out):
    source: Literal["api", "webhook"]
    event_id: str | None
    type: str
    object_id: str
    status: str | None
    amount_minor: int | None
    outcome: str = Field(description="applied, stale (changed nothing) ...")
    occurred_at: datetime
    received_at: datetime


class PaymentDetail(PaymentOut):
    amount_refundable_minor: int
    refunds: list[RefundOut]
    disputes: list[DisputeOut]
    history: list[HistoryOut]


class PaymentQuery(Page):
    order_id: str | None = Field(None, max_length=128, description="Only this order's payments.")
    status: Literal["pending", "succeeded", "failed", "canceled"] | None = None


class PaymentPage(Paginated[PaymentOut]):
    pass


class RefundPage(Out):
    data: list[RefundOut]


class WebhookReceipt(Out):
    received: bool = True
    event_id: str
    type: str
    outcome: str = Field(description="applied, stale, unmatched, duplicate or ignored.")
    payment_id: str | None = None


def history_of(rows: list[PaymentEvent]) -> list[HistoryOut]:
    """Describe history rows."""
    return [HistoryOut.model_validate(row) for row in rows]
