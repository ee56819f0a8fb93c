"""Payments of the current tenant through Stripe: settings, intents, reads and refunds.

Provider settings take secrets in and never give them back. ``POST /intents/`` is idempotent
per order; ``POST /<id>/refunds/`` takes an optional Idempotency-Key and never refunds more
than was captured. Stripe failures answer 502 (409/422 when Stripe refused the request).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant, tenant_id
from serving.db import db, session_factory, write_transaction
from serving.errors import ApiError, FieldError, problem_response
from serving.pagination import Keyset, paginate
from serving.schemas.payments import (
    DisputeOut,
    IntentCreate,
    PaymentCreated,
    PaymentDetail,
    PaymentOut,
    PaymentPage,
    PaymentQuery,
    PaymentSettingsIn,
    PaymentSettingsOut,
    RefundCreate,
    RefundOut,
    RefundPage,
    history_of,
)
from warehouse.controldb.models import Payment
from warehouse.payments import PaymentsEnv, create_intent, create_refund, providers, states, store
from warehouse.payments.errors import NotFound, ProviderError

bp = Blueprint("payments", __name__, url_prefix="/api/v1/payments")

PAYMENTS = Keyset("payments", sort=Payment.created_at, id=Payment.id, descending=True)
IDEMPOTENCY_HEADER = "Idempotency-Key"


def payments_env() -> PaymentsEnv:
    """Return this app's payments environment (built on first use)."""
    if "shoplake.payments" not in current_app.extensions:
        settings = current_app.config["SHOPLAKE"]
        env = PaymentsEnv.from_settings(settings, session_factory())
        current_app.extensions["shoplake.payments"] = env
    return current_app.extensions["shoplake.payments"]


@bp.errorhandler(ProviderError)
def _provider_failed(exc: ProviderError) -> Response:
    titles = {409: "Conflict", 422: "Unprocessable Content", 502: "Bad Gateway"}
    error = ApiError(
        exc.status,
        titles.get(exc.status, "Bad Gateway"),
        exc.reason,
        "payment-provider-error",
        [FieldError(exc.field, exc.reason)],
        extra={"provider_code": exc.code} if exc.code else {},
    )
    return problem_response(error)


def _settings_out(row) -> PaymentSettingsOut:
    tenant, _role = current_tenant(required=True)
    path = f"/api/v1/webhooks/stripe/{tenant.slug}/"
    return PaymentSettingsOut(**providers.describe(row), webhook_path=path)


@bp.get("/settings/")
@require(Permission.TENANT_READ)
@operation(response=PaymentSettingsOut)
def get_settings() -> PaymentSettingsOut:
    """Show the tenant's Stripe settings: what is set, never the secrets."""
    return _settings_out(providers.find(db(), tenant_id()))


@bp.patch("/settings/")
@require(Permission.TENANT_MANAGE)
@operation(body=PaymentSettingsIn, response=PaymentSettingsOut, errors=(422,))
def update_settings(body: PaymentSettingsIn) -> PaymentSettingsOut:
    """Set the Stripe secret key, webhook signing secret or enabled payment methods."""
    changes = body.model_dump(include=body.model_fields_set, exclude_none=True)
    with write_transaction() as session:
        row = providers.update_stripe(session, payments_env().box, tenant_id(), changes)
    return _settings_out(row)


@bp.post("/intents/")
@require(Permission.REFUNDS)
@operation(body=IntentCreate, response=PaymentCreated, status=201, errors=(404, 409, 422, 502))
def create_payment_intent(body: IntentCreate) -> tuple[PaymentCreated, int]:
    """Create a Stripe PaymentIntent for an order's total (or return its open one).

    The amount and currency come from the order; 201 when created, 200 when the order's open
    payment is returned. The client secret is for Stripe.js in the shopper's browser.
    """
    result = create_intent(payments_env(), tenant_id(), body.order_id, body.payment_methods)
    out = PaymentOut.of(result.payment).model_dump()
    return PaymentCreated(**out, client_secret=result.client_secret), 201 if result.created else 200


@bp.get("/")
@require(Permission.DATA_READ)
@operation(query=PaymentQuery, response=PaymentPage, errors=(400,))
def list_payments(query: PaymentQuery) -> PaymentPage:
    """List the tenant's payments, newest first, optionally of one order or status."""
    rows = select(Payment).where(Payment.tenant_id == tenant_id())
    if query.order_id is not None:
        rows = rows.where(Payment.order_id == query.order_id)
    if query.status is not None:
        rows = rows.where(Payment.status == query.status)
    found, cursor = paginate(db(), rows, PAYMENTS, query)
    return PaymentPage(data=[PaymentOut.of(row) for row in found], next_cursor=cursor)


def _payment(payment_id: str) -> Payment:
    row = store.payment(db(), tenant_id(), payment_id)
    if row is None:
        raise NotFound("payment_id", "no such payment")
    return row


@bp.get("/<payment_id>/")
@require(Permission.DATA_READ)
@operation(response=PaymentDetail, errors=(404,))
def get_payment(payment_id: str) -> PaymentDetail:
    """Show a payment with its refunds, disputes and history (API actions and Stripe events)."""
    row = _payment(payment_id)
    refunds = store.refunds(db(), row.id)
    held = [(r.status, r.amount_minor) for r in refunds]
    return PaymentDetail(
        **PaymentOut.of(row).model_dump(),
        amount_refundable_minor=states.refundable(row.amount_captured_minor, held),
        refunds=[RefundOut.of(r, row.provider_payment_id) for r in refunds],
        disputes=[DisputeOut.of(d) for d in store.disputes(db(), row.id)],
        history=history_of(store.history(db(), row.id)),
    )


@bp.get("/<payment_id>/refunds/")
@require(Permission.DATA_READ)
@operation(response=RefundPage, errors=(404,))
def list_refunds(payment_id: str) -> RefundPage:
    """List a payment's refunds, oldest first."""
    row = _payment(payment_id)
    refunds = store.refunds(db(), row.id)
    return RefundPage(data=[RefundOut.of(r, row.provider_payment_id) for r in refunds])


@bp.post("/<payment_id>/refunds/")
@require(Permission.REFUNDS)
@operation(body=RefundCreate, response=RefundOut, status=201, errors=(404, 409, 422, 502))
def refund_payment(payment_id: str, body: RefundCreate) -> tuple[RefundOut, int]:
    """Refund a payment fully or in part; never more than was captured.

    With an Idempotency-Key, a retry returns the first refund (200) instead of a second one.
    """
    key = _idempotency_key()
    env = payments_env()
    row, created = create_refund(env, tenant_id(), payment_id, body.amount_minor, body.reason, key)
    return RefundOut.of(row, payment_id), 201 if created else 200


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > 255 or not key.isprintable():
        raise ApiError(
            400,
            "Bad Request",
            "Invalid Idempotency-Key.",
            "bad-request",
            [FieldError(IDEMPOTENCY_HEADER, "1-255 printable characters")],
        )
    return key.strip()
