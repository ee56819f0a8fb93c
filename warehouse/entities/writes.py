"""CRUD writes: one path for single and bulk creates, replaces, updates and deletes.

Inside one control-DB write transaction: lock the records, read their current state, build and
validate each record against the contract, check references and unique values, land the
survivors (one upsert batch, one delete batch) and settle the unique-value claims. A change
that fails is reported with its status and fields and lands nothing; the others still land.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from warehouse.contracts import CONTRACTS
from warehouse.controldb import transaction
from warehouse.entities import landing, orders, resources
from warehouse.entities.changes import CREATE, DELETE, Change, contract_record
from warehouse.entities.claims import Claims
from warehouse.entities.resources import ORDERS, Resource
from warehouse.entities.sources import Store
from warehouse.entities.uniqueness import check_unique


@dataclass(frozen=True)
class Write:
    """Who writes where: the tenant's store, the control DB, and the request's identity."""

    store: Store
    sessions: sessionmaker[Session]
    scope: str  # names the request kind in batch ids and generated ids
    key: str | None = None  # the client's Idempotency-Key
    defaults: Mapping[str, Any] = field(default_factory=dict)


def apply(write: Write, resource: Resource, changes: Sequence[Change]) -> Sequence[Change]:
    """Apply every change (each ends with a status), landing the ones that pass."""
    _refuse_repeated_ids(changes)
    batches = landing.Batches.of(write.store.tenant_id, write.scope, write.key)
    with transaction(write.sessions, write=True) as session:
        claims = Claims(session, write.store.tenant_id)
        claims.lock(resource.name, [c.id for c in changes if c.pending])
        if write.key is not None and landing.landed(write.store, batches):
            return _replay(write, resource, changes, batches)
        tables = _prepare(write, resource, changes, claims)
        upserts = {c.id for c in changes if c.pending and c.writes}
        deletes = sorted(c.id for c in changes if c.pending and not c.writes)
        tables = landing.keep(tables, upserts)
        landing.land_upserts(write.store, batches.upserts, tables)
        landing.land_deletes(write.store, batches.deletes, resource.contract, deletes)
        _settle(resource, claims, tables, deletes)
    records = resources.from_tables(resource, tables)
    for change in changes:
        if change.pending:
            change.succeed(records.get(change.id))
    return changes


def _prepare(write: Write, resource: Resource, changes: Sequence[Change], claims: Claims):
    before = resources.fetch(write.store, resource, [c.id for c in changes if c.pending])
    _check_existence(changes, before)
    now = datetime.now(UTC)
    upserts = [c for c in changes if c.pending and c.writes]
    fields = set(CONTRACTS[resource.contract].wire_schema.names)
    defaults = {name: value for name, value in write.defaults.items() if name in fields}
    records = [contract_record(c, before.get(c.id), defaults, now) for c in upserts]
    if resource is ORDERS:
        for change, record in zip(upserts, records, strict=True):
            orders.check_update(change, before.get(change.id), record)
    tables = landing.validate(resource.contract, upserts, records)
    if resource is ORDERS:
        _check_customers(write.store, upserts, tables, before)
    deleting = {c.id for c in changes if c.pending and not c.writes}
    check_unique(write.store, resource, claims, upserts, tables, deleting)
    return tables


def _refuse_repeated_ids(changes: Sequence[Change]) -> None:
    seen: set[str] = set()
    for change in changes:
        if change.id in seen:
            change.fail(409, "id", "the request changes this record more than once")
        seen.add(change.id)


def _check_existence(changes: Sequence[Change], before: Mapping[str, Any]) -> None:
    for change in changes:
        if not change.pending:
            continue
        if change.op == CREATE and change.id in before:
            change.fail(409, "id", "a record with this id already exists")
        elif change.op != CREATE and change.id not in before:
            change.fail(404, "id", "no such record")


def _check_customers(store: Store, upserts: Sequence[Change], tables, before) -> None:
    """Refuse an order naming a customer that does not exist (unless it already did)."""
    named = {
        row["id"]: row["customer_id"]
        for row in tables["orders"].select(["id", "customer_id"]).to_pylist()
        if row["customer_id"] is not None
    }
    changed = {
        order_id: customer
        for order_id, customer in named.items()
        if (before.get(order_id) or {}).get("customer_id") != customer
    }
    known = resources.existing_ids(store, "customers", changed.values())
    for change in upserts:
        if change.pending and changed.get(change.id) not in (None, *known):
            change.fail(422, "customer_id", "no such customer")


def _settle(resource: Resource, claims: Claims, tables, deletes: Sequence[str]) -> None:
    if resource.unique_kind is None:
        return
    held = {row["id"]: resource.unique_values(row) for row in tables[resource.name].to_pylist()}
    claims.settle(resource.unique_kind, {**held, **{record_id: set() for record_id in deletes}})


def _replay(write: Write, resource: Resource, changes: Sequence[Change], batches) -> Sequence:
    """Answer a retried request whose batches already landed, from what they landed."""
    done = landing.landed_ids(write.store, resource.name, batches)
    current = resources.fetch(write.store, resource, sorted(done))
    for change in changes:
        if not change.pending:
            continue
        if change.id in done:
            change.succeed(None if change.op == DELETE else current.get(change.id))
        else:
            reason = "not applied by the earlier attempt of this request"
            change.fail(409, "Idempotency-Key", reason)
    return changes
