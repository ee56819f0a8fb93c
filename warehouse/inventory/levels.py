"""Inventory levels in the control DB: lock one product's rows, apply its changes, read levels.

Call :func:`apply_changes` inside ``warehouse.controldb.transaction(factory, write=True)``: on
SQLite that transaction holds the write lock from BEGIN (IMMEDIATE), on PostgreSQL
:func:`lock_product` takes row locks (``SELECT ... FOR UPDATE``, in variant order so two writers
never deadlock). A SKU's first write inserts its row; two first writes racing on PostgreSQL end
in an IntegrityError for one of them, which the caller retries and then finds the row to lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.controldb.models import InventoryChange, InventoryLevel
from warehouse.inventory import events
from warehouse.inventory.modes import Change, Level, Mode, Refused, apply


@dataclass(frozen=True)
class SkuLevel:
    """A SKU's current (or just written) stock and version; ``variant_id`` '' = the product."""

    product_id: str
    variant_id: str
    quantity: int
    version: int
    updated_at: datetime | None = None


def lock_product(session: Session, tenant_id: int, product_id: str) -> dict[str, InventoryLevel]:
    """Lock and return every level row of one product, by variant id."""
    query = (
        select(InventoryLevel)
        .where(InventoryLevel.tenant_id == tenant_id, InventoryLevel.product_id == product_id)
        .order_by(InventoryLevel.variant_id)
        .with_for_update()
    )
    return {row.variant_id: row for row in session.scalars(query)}


def recorded(
    session: Session, tenant_id: int, request_key: str, product_id: str
) -> list[InventoryChange]:
    """Return the changes an earlier attempt of the same request made to one product."""
    query = (
        select(InventoryChange)
        .where(
            InventoryChange.tenant_id == tenant_id,
            InventoryChange.request_key == request_key,
            InventoryChange.product_id == product_id,
        )
        .order_by(InventoryChange.id)
    )
    return list(session.scalars(query))


def next_instant(previous: datetime | None, now: datetime) -> datetime:
    """Return ``now``, or just after ``previous`` when the clock has not passed it.

    A SKU's stock events are replayed in ``occurred_at`` order downstream, so each one must be
    strictly later than the one before, even across processes whose clocks disagree slightly.
    """
    if previous is not None and now <= previous:
        return previous + timedelta(microseconds=1)
    return now


def apply_changes(
    session: Session,
    tenant_id: int,
    product_id: str,
    mode: Mode,
    changes: Sequence[Change],
    request_key: str,
    now: datetime,
) -> tuple[list[InventoryChange], bool]:
    """Apply one product's changes in order; return the recorded changes and whether replayed.

    Raises :class:`Refused` on the first change the mode refuses; the caller's transaction then
    rolls back, so the product keeps every level it had.
    """
    rows = lock_product(session, tenant_id, product_id)
    earlier = recorded(session, tenant_id, request_key, product_id)
    if earlier:
        return earlier, True
    applied = [
        _apply_one(session, rows, tenant_id, mode, change, request_key, now) for change in changes
    ]
    _check_contract(mode, changes, applied)
    session.add_all(applied)
    session.flush()
    return applied, False


def _apply_one(
    session: Session,
    rows: dict[str, InventoryLevel],
    tenant_id: int,
    mode: Mode,
    change: Change,
    request_key: str,
    now: datetime,
) -> InventoryChange:
    row = rows.get(change.variant_id)
    outcome = apply(mode, Level(row.quantity, row.version) if row else Level(), change)
    if row is None:
        row = InventoryLevel(
            tenant_id=tenant_id, product_id=change.product_id, variant_id=change.variant_id
        )
        session.add(row)
        rows[change.variant_id] = row
    at = next_instant(row.updated_at, now)
    row.quantity, row.version, row.updated_at = outcome.level.quantity, outcome.level.version, at
    return InventoryChange(
        tenant_id=tenant_id,
        request_key=request_key,
        event_id=events.event_id(tenant_id, change.product_id, change.variant_id, row.version),
        product_id=change.product_id,
        variant_id=change.variant_id,
        version=row.version,
        kind=outcome.kind,
        quantity=outcome.quantity,
        level=outcome.level.quantity,
        reason=change.reason,
        occurred_at=at,
    )


def _check_contract(
    mode: Mode, changes: Sequence[Change], applied: Sequence[InventoryChange]
) -> None:
    # The events must pass the stock_event contract before the commit, or they could never land.
    for position, name, reason in events.contract_errors(applied):
        if name == "quantity" and mode is Mode.MERGE:
            name = "delta"
        raise Refused(changes[position].field(name), reason, conflict=False)


def latest_levels(changes: Iterable[InventoryChange]) -> list[SkuLevel]:
    """Return each SKU's level after the last of ``changes`` that touched it."""
    last: dict[str, InventoryChange] = {}
    for change in changes:
        if change.variant_id not in last or change.version > last[change.variant_id].version:
            last[change.variant_id] = change
    return [
        SkuLevel(c.product_id, c.variant_id, c.level, c.version, c.occurred_at)
        for _, c in sorted(last.items())
    ]


def read_levels(
    session: Session, tenant_id: int, product_ids: Iterable[str], variant_ids: Iterable[str] = ()
) -> list[SkuLevel]:
    """Return the stored levels of some products (optionally only some variants), in key order."""
    query = select(InventoryLevel).where(
        InventoryLevel.tenant_id == tenant_id, InventoryLevel.product_id.in_(list(product_ids))
    )
    variants = list(variant_ids)
    if variants:
        query = query.where(InventoryLevel.variant_id.in_(variants))
    query = query.order_by(InventoryLevel.product_id, InventoryLevel.variant_id)
    return [
        SkuLevel(row.product_id, row.variant_id, row.quantity, row.version, row.updated_at)
        for row in session.scalars(query)
    ]
