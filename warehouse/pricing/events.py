"""Price events: validate against the ``price_event`` contract, land, then judge the change.

Landing comes first (the record is the business fact; source ``webhook``) and is idempotent by
event id: the batch id derives from it and the batch records its content, so the same id sent
again with other content is refused. Then one write transaction locks the SKU's last known
price (``price_points``), compares, moves it forward and stores an anomaly if the change is one.
An event older than the last known price is kept in the lake but changes nothing (``stale``);
an event already recorded is reported as ``duplicate``, with the anomaly it raised, if any.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from warehouse.contracts import validate_records
from warehouse.controldb import transaction
from warehouse.controldb.models import PriceAnomaly, PricePoint, utcnow
from warehouse.controlplane.errors import Invalid
from warehouse.lake import BatchConflict, batch_id_for, land_batch
from warehouse.pricing.compare import KnownPrice, Verdict, judge, latest

SOURCE = "webhook"
ATTEMPTS = 5


@dataclass(frozen=True)
class PriceEvent:
    """A validated price event; ``variant_id`` '' is the product itself."""

    id: str
    product_id: str
    variant_id: str
    price_minor: int
    currency: str
    occurred_at: datetime


@dataclass(frozen=True)
class PriceOutcome:
    """``status`` is applied, stale or duplicate; ``previous`` is what the event was judged by."""

    status: str
    previous: KnownPrice | None
    verdict: Verdict | None
    anomaly: PriceAnomaly | None


def validate_event(record: dict) -> tuple[PriceEvent, dict[str, pa.Table]]:
    """Check a wire record against the contract; return the event and its lake tables."""
    result = validate_records("price_event", [record])
    if result.errors:
        error = result.errors[0]
        raise Invalid(error.field, error.reason)
    row = result.tables["price_events"].to_pylist()[0]
    event = PriceEvent(
        row["id"],
        row["product_id"],
        row["variant_id"] or "",
        row["price_minor"],
        row["currency"],
        row["occurred_at"],
    )
    return event, result.tables


def land_event(lake_root: Path, tenant_id: int, event: PriceEvent, tables: dict) -> bool:
    """Land the event's record once; return whether it had landed before."""
    content = repr(sorted(vars(event).items())).encode()
    batch_id = batch_id_for(tenant_id, f"price-event:{event.id}", 0)
    try:
        landed = land_batch(
            lake_root,
            tenant_id,
            batch_id,
            tables,
            source=SOURCE,
            content_sha256=hashlib.sha256(content).hexdigest(),
        )
    except BatchConflict:
        raise Invalid("id", "this event id was already used for a different price event") from None
    return landed.already_landed


def record_price(
    factory: sessionmaker[Session],
    tenant_id: int,
    event: PriceEvent,
    catalog: KnownPrice | None,
    threshold_pct: float,
) -> PriceOutcome:
    """Judge the event against the last known price and record it, in one write transaction."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction(factory, write=True) as session:
                return _record(session, tenant_id, event, catalog, threshold_pct)
        except IntegrityError:  # a concurrent first event for the SKU inserted its row first
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _record(
    session: Session,
    tenant_id: int,
    event: PriceEvent,
    catalog: KnownPrice | None,
    threshold_pct: float,
) -> PriceOutcome:
    point = _lock_point(session, tenant_id, event)
    earlier = session.scalar(
        select(PriceAnomaly).where(
            PriceAnomaly.tenant_id == tenant_id, PriceAnomaly.event_id == event.id
        )
    )
    if earlier is not None or (point is not None and point.event_id == event.id):
        return PriceOutcome("duplicate", None, None, earlier)
    previous = latest(_known(point), catalog)
    if previous is not None and event.occurred_at < previous.occurred_at:
        return PriceOutcome("stale", previous, None, None)
    verdict = (
        judge(previous, event.price_minor, event.currency, threshold_pct) if previous else None
    )
    _move_point(session, point, tenant_id, event)
    anomaly = None
    if verdict is not None and verdict.is_anomaly:
        anomaly = _anomaly(tenant_id, event, previous, verdict, threshold_pct)
        session.add(anomaly)
        session.flush()
    return PriceOutcome("applied", previous, verdict, anomaly)


def _lock_point(session: Session, tenant_id: int, event: PriceEvent) -> PricePoint | None:
    query = select(PricePoint).where(
        PricePoint.tenant_id == tenant_id,
        PricePoint.product_id == event.product_id,
        PricePoint.variant_id == event.variant_id,
    )
    return session.scalar(query.with_for_update())


def _known(point: PricePoint | None) -> KnownPrice | None:
    if point is None:
        return None
    return KnownPrice(
        point.price_minor, point.currency, point.occurred_at, "price_event", point.event_id
    )


def _move_point(
    session: Session, point: PricePoint | None, tenant_id: int, event: PriceEvent
) -> None:
    if point is None:
        point = PricePoint(
            tenant_id=tenant_id, product_id=event.product_id, variant_id=event.variant_id
        )
        session.add(point)
    point.price_minor, point.currency = event.price_minor, event.currency
    point.event_id, point.occurred_at = event.id, event.occurred_at


def _anomaly(
    tenant_id: int, event: PriceEvent, previous: KnownPrice, verdict: Verdict, threshold: float
) -> PriceAnomaly:
    return PriceAnomaly(
        tenant_id=tenant_id,
        product_id=event.product_id,
        variant_id=event.variant_id,
        event_id=event.id,
        reason=verdict.reason,
        previous_price_minor=previous.price_minor,
        previous_currency=previous.currency,
        previous_source=previous.source,
        price_minor=event.price_minor,
        currency=event.currency,
        change_pct=verdict.change_pct,
        threshold_pct=threshold,
        occurred_at=event.occurred_at,
        detected_at=utcnow(),
        status="open",
        note="",
    )
