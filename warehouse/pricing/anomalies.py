"""Price anomalies kept for review: stream a product's recent ones, mark one reviewed or open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb.models import PriceAnomaly, utcnow
from warehouse.controlplane.errors import NotFound

STATUSES = ("open", "reviewed")
# Rows fetched from the database at a time while streaming (PostgreSQL: a server-side cursor).
FETCH_ROWS = 500


@dataclass(frozen=True)
class AnomalyFilter:
    """Which anomalies of a product to list: newest first, at most ``limit``."""

    limit: int
    since: datetime | None = None
    status: str | None = None
    variant_id: str | None = None


def anomaly_query(tenant_id: int, product_id: str, spec: AnomalyFilter):
    """Return the select for a product's anomalies matching ``spec``, newest first."""
    query = select(PriceAnomaly).where(
        PriceAnomaly.tenant_id == tenant_id, PriceAnomaly.product_id == product_id
    )
    if spec.since is not None:
        query = query.where(PriceAnomaly.detected_at >= spec.since)
    if spec.status is not None:
        query = query.where(PriceAnomaly.status == spec.status)
    if spec.variant_id is not None:
        query = query.where(PriceAnomaly.variant_id == spec.variant_id)
    order = (PriceAnomaly.detected_at.desc(), PriceAnomaly.id.desc())
    return query.order_by(*order).limit(spec.limit)


def stream_anomalies(
    factory: sessionmaker[Session], tenant_id: int, product_id: str, spec: AnomalyFilter
) -> Iterator[PriceAnomaly]:
    """Yield matching anomalies a few hundred rows at a time, in a session of their own."""
    query = anomaly_query(tenant_id, product_id, spec).execution_options(yield_per=FETCH_ROWS)
    with factory() as session:
        yield from session.scalars(query)


def review(
    session: Session,
    tenant_id: int,
    product_id: str,
    anomaly_id: int,
    *,
    status: str,
    note: str | None,
    by: str,
) -> PriceAnomaly:
    """Set an anomaly's review status (and note); reopening clears who reviewed it."""
    anomaly = session.scalar(
        select(PriceAnomaly)
        .where(
            PriceAnomaly.id == anomaly_id,
            PriceAnomaly.tenant_id == tenant_id,
            PriceAnomaly.product_id == product_id,
        )
        .with_for_update()
    )
    if anomaly is None:
        raise NotFound("anomaly_id", "no such price anomaly for this product")
    reviewed = status == "reviewed"
    anomaly.status = status
    anomaly.reviewed_at = utcnow() if reviewed else None
    anomaly.reviewed_by = by if reviewed else None
    if note is not None:
        anomaly.note = note
    return anomaly
