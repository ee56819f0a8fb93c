"""Request and response models for price events and price anomalies of a product."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from serving.api import Body, Out, Query
from warehouse.contracts.fields import ID_MAX_CHARS
from warehouse.controldb.models import PriceAnomaly
from warehouse.pricing import KnownPrice

AnomalyStatus = Literal["open", "reviewed"]


class PriceEventIn(Body):
    """A price change, as a webhook sends it; checked by the ``price_event`` contract."""

    id: str | None = Field(
        None,
        min_length=1,
        max_length=ID_MAX_CHARS,
        description="The sender's event id; without it the Idempotency-Key names the event.",
    )
    variant_id: str | None = Field(
        None, min_length=1, max_length=ID_MAX_CHARS, description="Omit for the product's price."
    )
    price_minor: int = Field(description="The new price in minor units (cents).")
    currency: str = Field(description="ISO 4217 code, e.g. EUR.")
    occurred_at: str = Field(description="When the price changed: RFC 3339 with an offset.")


class KnownPriceOut(Out):
    price_minor: int
    currency: str
    occurred_at: datetime
    source: Literal["price_event", "catalog"]

    @classmethod
    def of(cls, price: KnownPrice | None) -> KnownPriceOut | None:
        """Serialise a known price (None stays None)."""
        if price is None:
            return None
        return cls(
            price_minor=price.price_minor,
            currency=price.currency,
            occurred_at=price.occurred_at,
            source=price.source,
        )


class AnomalyOut(Out):
    id: int
    product_id: str
    variant_id: str | None
    event_id: str
    reason: Literal["threshold", "from_zero", "currency"]
    previous_price_minor: int
    previous_currency: str
    previous_source: Literal["price_event", "catalog"]
    price_minor: int
    currency: str
    change_pct: float | None = Field(
        description="Signed change in percent; null if not comparable."
    )
    threshold_pct: float = Field(description="The tenant's threshold when it was flagged.")
    occurred_at: datetime
    detected_at: datetime
    status: AnomalyStatus
    reviewed_at: datetime | None
    reviewed_by: str | None
    note: str

    @classmethod
    def of(cls, anomaly: PriceAnomaly) -> AnomalyOut:
        """Serialise a stored anomaly; the product's own price has ``variant_id`` null."""
        out = cls.model_validate(anomaly)
        return out.model_copy(update={"variant_id": anomaly.variant_id or None})


class PriceEventOut(Out):
    id: str
    product_id: str
    variant_id: str | None
    price_minor: int
    currency: str
    occurred_at: datetime
    status: Literal["applied", "stale", "duplicate"] = Field(
        description="stale: older than the last known price, kept but not compared; "
        "duplicate: this event was already recorded."
    )
    previous: KnownPriceOut | None = Field(description="The price the event was compared with.")
    change_pct: float | None
    anomaly: AnomalyOut | None = Field(description="Set when the change was flagged for review.")


class AnomalyQuery(Query):
    limit: int = Field(100, ge=1, le=10_000, description="Most anomalies returned (newest first).")
    since: AwareDatetime | None = Field(None, description="Only anomalies detected at or after.")
    status: AnomalyStatus | None = Field(None, description="Only open or only reviewed ones.")
    variant_id: str | None = Field(None, min_length=1, max_length=ID_MAX_CHARS)


class AnomalyReview(Body):
    status: AnomalyStatus = Field(description="reviewed, or open to reopen.")
    note: str | None = Field(None, max_length=1000, description="Replaces the review note.")
