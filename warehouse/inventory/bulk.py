"""A bulk stock update: changes grouped by product, each product applied in its own transaction.

All changes of one product (any of its variants) commit together or not at all; products are
independent, so some may succeed while others are refused. After every product has been tried,
the request's stock events are landed in one batch (see :mod:`warehouse.inventory.events`).

``request_key`` names the request: derive it from the Idempotency-Key so a retry after a crash
finds the products it already changed (they are reported as ``replayed`` and not changed
again), or use a random one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb import transaction
from warehouse.controldb.models import utcnow
from warehouse.inventory import events
from warehouse.inventory.levels import SkuLevel, apply_changes, latest_levels, read_levels
from warehouse.inventory.modes import Change, Mode, Refused

# A first write racing another first write of the same SKU loses the insert and is retried.
ATTEMPTS = 5
# Landed changes are kept this long so a retried request can still recognise its own.
KEEP_LANDED = timedelta(days=7)


@dataclass
class ProductResult:
    """What happened to one product: ``applied``, ``replayed`` (by an earlier attempt) or
    ``refused``; ``levels`` are the changed SKUs' levels after (or, if refused, as they are)."""

    product_id: str
    status: str
    levels: list[SkuLevel]
    errors: list[tuple[str, str]] = field(default_factory=list)
    conflict: bool = False

    @property
    def ok(self) -> bool:
        return self.status != "refused"


def group_by_product(changes: Sequence[Change]) -> dict[str, list[Change]]:
    """Group changes by product, keeping the request's order within and between products."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.product_id, []).append(change)
    return groups


def bulk_update(
    factory: sessionmaker[Session],
    lake_root: Path,
    tenant_id: int,
    mode: Mode,
    changes: Sequence[Change],
    request_key: str,
    *,
    redeliver_after: timedelta,
    clock: Callable[[], datetime] = utcnow,
) -> list[ProductResult]:
    """Apply changes atomically per product, then land their stock events; report each product."""
    events.redeliver(factory, lake_root, tenant_id, clock() - redeliver_after)
    results = [
        apply_product(factory, tenant_id, product_id, mode, group, request_key, clock)
        for product_id, group in group_by_product(changes).items()
    ]
    events.land_pending(factory, lake_root, tenant_id, request_key)
    events.prune_landed(factory, tenant_id, clock() - KEEP_LANDED)
    return results


def apply_product(
    factory: sessionmaker[Session],
    tenant_id: int,
    product_id: str,
    mode: Mode,
    changes: Sequence[Change],
    request_key: str,
    clock: Callable[[], datetime] = utcnow,
) -> ProductResult:
    """Apply one product's changes in one write transaction, retrying a lost first insert."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction(factory, write=True) as session:
                applied, replayed = apply_changes(
                    session, tenant_id, product_id, mode, changes, request_key, clock()
                )
            status = "replayed" if replayed else "applied"
            return ProductResult(product_id, status, latest_levels(applied))
        except Refused as refused:
            current = _current(factory, tenant_id, product_id, changes)
            errors = [(refused.field, refused.reason)]
            return ProductResult(product_id, "refused", current, errors, refused.conflict)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _current(
    factory: sessionmaker[Session], tenant_id: int, product_id: str, changes: Sequence[Change]
) -> list[SkuLevel]:
    variants = sorted({change.variant_id for change in changes})
    with transaction(factory) as session:
        stored = {
            level.variant_id: level
            for level in read_levels(session, tenant_id, [product_id], variants)
        }
    return [stored.get(v) or SkuLevel(product_id, v, 0, 0) for v in variants]
