"""Lake records of payments, refunds, disputes and provider events, landed the one write way.

Records are validated against their contracts and landed as one batch whose id derives from
(tenant, key), exactly like an ingest: webhooks pass ``stripe:<event id>`` so a replayed event
finds its batch landed and writes nothing. Callers land while holding the payment's row lock,
so versions land in the order the states were reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.contracts import validate_records
from warehouse.controldb.models import Payment, PaymentDispute, PaymentRefund
from warehouse.lake import LandedBatch, batch_id_for, land_batch
from warehouse.payments import states
from warehouse.payments.objects import stripe_time
from warehouse.payments.providers import STRIPE

Records = dict[str, list[dict[str, Any]]]


def _ts(value: datetime) -> str:
    return value.isoformat()


def payment_record(row: Payment) -> dict[str, Any]:
    """Return a payment's current state as a ``payment`` record."""
    return {
        "id": row.provider_payment_id,
        "order_id": row.order_id,
        "provider": row.provider,
        "status": row.status,
        "provider_status": row.provider_status,
        "currency": row.currency,
        "amount_minor": row.amount_minor,
        "amount_captured_minor": row.amount_captured_minor,
        "amount_refunded_minor": row.amount_refunded_minor,
        "failure_code": row.failure_code,
        "created_at": _ts(row.created_at),
        "updated_at": _ts(row.state_at),
    }


def refund_record(row: PaymentRefund, order_id: str) -> dict[str, Any] | None:
    """Return a refund as a ``refund`` record (None until the provider has answered)."""
    if row.provider_refund_id is None or row.status not in states.REFUND_LAKE_STATUS:
        return None
    return {
        "id": row.provider_refund_id,
        "order_id": order_id,
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "reason": row.reason,
        "status": states.REFUND_LAKE_STATUS[row.status],
        "created_at": _ts(row.created_at),
    }


def dispute_record(row: PaymentDispute, payment: Payment) -> dict[str, Any]:
    """Return a dispute as a ``dispute`` record."""
    return {
        "id": row.provider_dispute_id,
        "payment_id": payment.provider_payment_id,
        "order_id": payment.order_id,
        "provider": STRIPE,
        "status": row.status,
        "reason": row.reason,
        "currency": row.currency,
        "amount_minor": row.amount_minor,
        "created_at": _ts(row.created_at),
        "updated_at": _ts(row.state_at),
    }


def event_record(event: Mapping[str, Any], outcome: str, payment: Payment | None) -> dict:
    """Return a provider event as a ``payment_event`` record."""
    return {
        "id": event["id"],
        "provider": STRIPE,
        "type": event["type"],
        "object_id": event["data"]["object"]["id"],
        "payment_id": payment.provider_payment_id if payment else None,
        "order_id": payment.order_id if payment else None,
        "outcome": outcome,
        "livemode": bool(event.get("livemode")),
        "created_at": _ts(stripe_time(event["created"])),
    }


def add(records: Records, contract: str, record: dict[str, Any] | None) -> None:
    """Append ``record`` to the records of ``contract`` (skipping None)."""
    if record is not None:
        records.setdefault(contract, []).append(record)


def land(
    lake_root: Path, tenant_id: int, key: str, records: Records, source: str
) -> LandedBatch | None:
    """Validate and land ``records`` (contract -> rows) as the batch of ``key``."""
    tables = {}
    for contract, rows in records.items():
        validated, errors = validate_records(contract, list(rows))
        if errors:  # our own records: a failure here is a bug, not bad input
            raise ValueError(f"{contract} record refused: {errors[0].field}: {errors[0].reason}")
        tables.update(validated)
    if not tables:
        return None
    batch_id = batch_id_for(tenant_id, key, 0)
    return land_batch(lake_root, tenant_id, batch_id, tables, source=source)
