"""Plain snapshots of the Stripe objects we use, read from API responses or event payloads.

Both paths hand us the same JSON shapes, so one parser per object serves both. Nothing here
keeps a PaymentIntent's ``client_secret``: it goes to the caller once and is never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

METADATA_TENANT = "shoplake_tenant_id"
METADATA_ORDER = "shoplake_order_id"
METADATA_REFUND = "shoplake_refund_id"


def stripe_time(seconds: Any) -> datetime:
    """Convert a Stripe timestamp (Unix seconds) to an aware UTC datetime."""
    return datetime.fromtimestamp(int(seconds), UTC)


def _id_of(value: Any) -> str | None:
    # Stripe fields like `charge` or `payment_intent` hold an id, or the object when expanded.
    if isinstance(value, Mapping):
        return value.get("id")
    return value


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent's fields that matter to us."""

    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    created: datetime
    latest_charge: str | None = None
    failure_code: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    """A Refund's fields that matter to us."""

    id: str
    status: str
    amount: int
    currency: str
    created: datetime
    payment_intent: str | None = None
    charge: str | None = None
    reason: str | None = None
    failure_reason: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dispute:
    """A Dispute's fields that matter to us."""

    id: str
    status: str
    amount: int
    currency: str
    created: datetime
    charge: str | None = None
    payment_intent: str | None = None
    reason: str | None = None


def intent_from(obj: Mapping[str, Any]) -> Intent:
    """Read a PaymentIntent object."""
    error = obj.get("last_payment_error") or {}
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        amount_received=int(obj.get("amount_received") or 0),
        currency=str(obj["currency"]).upper(),
        created=stripe_time(obj["created"]),
        latest_charge=_id_of(obj.get("latest_charge")),
        failure_code=error.get("decline_code") or error.get("code"),
        metadata=_metadata(obj),
    )


def refund_from(obj: Mapping[str, Any]) -> Refund:
    """Read a Refund object."""
    return Refund(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        created=stripe_time(obj["created"]),
        payment_intent=_id_of(obj.get("payment_intent")),
        charge=_id_of(obj.get("charge")),
        reason=obj.get("reason"),
        failure_reason=obj.get("failure_reason"),
        metadata=_metadata(obj),
    )


def dispute_from(obj: Mapping[str, Any]) -> Dispute:
    """Read a Dispute object."""
    return Dispute(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        created=stripe_time(obj["created"]),
        charge=_id_of(obj.get("charge")),
        payment_intent=_id_of(obj.get("payment_intent")),
        reason=obj.get("reason"),
    )


def charge_refunds(charge: Mapping[str, Any]) -> list[Refund]:
    """Return the refunds embedded in a Charge (absent on newer API versions: then none)."""
    listing = charge.get("refunds") or {}
    return [refund_from(item) for item in listing.get("data") or []]
