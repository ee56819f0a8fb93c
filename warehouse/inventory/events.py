"""Stock events: every applied stock change lands in the lake, after the control-DB commit.

The commit is the source of truth. Each applied change is stored (``inventory_changes``) in the
same transaction as the level it changed, with ``landed_at`` empty; after the commit the changes
are validated against the ``stock_event`` contract, landed through the one write path
(:func:`warehouse.lake.land_batch`, source ``crud``) and marked landed. A crash between commit
and landing leaves them pending; a retry of the request (same Idempotency-Key) lands them, and
so does the tenant's next stock update once they are older than the redelivery delay.

Landing is idempotent: each event id derives from (tenant, product, variant, version) and the
batch id from the sorted event ids it holds, so landing the same changes again finds the batch
already landed, and an event landed twice in different batches keeps its id (staging keeps one
row per id). ``set`` events carry the new absolute level, ``delta`` events the merged delta;
their ``occurred_at`` strictly increase per SKU, in version order, so replaying them downstream
gives the control DB's levels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from warehouse.contracts import validate_records
from warehouse.controldb import transaction
from warehouse.controldb.models import InventoryChange, utcnow
from warehouse.lake import LandedBatch, batch_id_for, land_batch

SOURCE = "crud"
ENTITY = "stock_event"
_UPDATE_CHUNK = 500


def event_id(tenant_id: int, product_id: str, variant_id: str, version: int) -> str:
    """Return the stock event id of a SKU's version: stable across retries and re-landings."""
    material = json.dumps([tenant_id, product_id, variant_id, version], ensure_ascii=False)
    return "stk_" + hashlib.sha256(material.encode()).hexdigest()[:32]


def record(change: InventoryChange) -> dict:
    """Return the ``stock_event`` wire record of one applied change."""
    return {
        "id": change.event_id,
        "product_id": change.product_id,
        "variant_id": change.variant_id or None,
        "kind": change.kind,
        "quantity": change.quantity,
        "reason": change.reason,
        "occurred_at": change.occurred_at.isoformat(),
    }


def contract_errors(changes: Sequence[InventoryChange]) -> list[tuple[int, str, str]]:
    """Return (position in ``changes``, field, reason) for records the contract refuses."""
    result = validate_records(ENTITY, [record(change) for change in changes])
    return [(error.row - 1, error.field, error.reason) for error in result.errors]


def event_tables(changes: Sequence[InventoryChange]) -> dict[str, pa.Table]:
    """Return the lake tables of ``changes`` (validated; they passed before their commit)."""
    result = validate_records(ENTITY, [record(change) for change in changes])
    if result.errors:
        raise ValueError(f"stock events failed their contract after commit: {result.errors[:3]}")
    return result.tables


def land(lake_root: Path, tenant_id: int, changes: Sequence[InventoryChange]) -> LandedBatch:
    """Land the stock events of ``changes`` as one batch named by their event ids."""
    digest = hashlib.sha256("\n".join(sorted(c.event_id for c in changes)).encode()).hexdigest()
    batch_id = batch_id_for(tenant_id, f"stock-events:{digest}", 0)
    return land_batch(lake_root, tenant_id, batch_id, event_tables(changes), source=SOURCE)


def mark_landed(factory: sessionmaker[Session], ids: Sequence[int]) -> None:
    """Record that the changes with these row ids have landed."""
    now = utcnow()
    for start in range(0, len(ids), _UPDATE_CHUNK):
        chunk = list(ids[start : start + _UPDATE_CHUNK])
        with transaction(factory) as session:
            session.execute(
                update(InventoryChange)
                .where(InventoryChange.id.in_(chunk), InventoryChange.landed_at.is_(None))
                .values(landed_at=now)
            )


def land_pending(
    factory: sessionmaker[Session], lake_root: Path, tenant_id: int, request_key: str
) -> int:
    """Land every change of one request that has not landed yet; return how many."""
    with transaction(factory) as session:
        query = _pending(tenant_id).where(InventoryChange.request_key == request_key)
        changes = list(session.scalars(query))
    return _land_and_mark(factory, lake_root, tenant_id, changes)


def redeliver(
    factory: sessionmaker[Session],
    lake_root: Path,
    tenant_id: int,
    older_than: datetime,
    *,
    limit: int = 5000,
) -> int:
    """Land a tenant's changes still pending since before ``older_than`` (a crash left them)."""
    with transaction(factory) as session:
        query = _pending(tenant_id).where(InventoryChange.occurred_at < older_than).limit(limit)
        changes = list(session.scalars(query))
    by_request: dict[str, list[InventoryChange]] = {}
    for change in changes:
        by_request.setdefault(change.request_key, []).append(change)
    groups = by_request.values()
    return sum(_land_and_mark(factory, lake_root, tenant_id, group) for group in groups)


def prune_landed(factory: sessionmaker[Session], tenant_id: int, before: datetime) -> int:
    """Forget a tenant's changes landed before ``before`` (the lake keeps them); return how many."""
    old = (InventoryChange.tenant_id == tenant_id, InventoryChange.landed_at < before)
    with transaction(factory) as session:
        # Look first: on SQLite even a DELETE that matches nothing takes the write lock.
        if session.scalar(select(InventoryChange.id).where(*old).limit(1)) is None:
            return 0
        return session.execute(delete(InventoryChange).where(*old)).rowcount or 0


def _pending(tenant_id: int):
    return (
        select(InventoryChange)
        .where(InventoryChange.tenant_id == tenant_id, InventoryChange.landed_at.is_(None))
        .order_by(InventoryChange.id)
    )


def _land_and_mark(
    factory: sessionmaker[Session], lake_root: Path, tenant_id: int, changes: Iterable
) -> int:
    changes = list(changes)
    if not changes:
        return 0
    land(lake_root, tenant_id, changes)
    mark_landed(factory, [change.id for change in changes])
    return len(changes)
