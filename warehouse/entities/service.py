"""The entity service: read, create, replace, update, delete and bulk-change CRUD records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from warehouse.contracts.fields import ID_MAX_CHARS
from warehouse.entities import resources
from warehouse.entities.changes import CREATE, DELETE, REPLACE, UPDATE, Change, new_id
from warehouse.entities.errors import EntityNotFound, raise_for
from warehouse.entities.resources import Resource
from warehouse.entities.sources import Store
from warehouse.entities.writes import Write, apply

MAX_BULK_ITEMS = 1000


def get(store: Store, resource: Resource, record_id: str) -> dict[str, Any]:
    """Return one record in API shape; raise EntityNotFound if it does not exist."""
    record = resources.fetch_one(store, resource, record_id)
    if record is None:
        raise EntityNotFound([("id", "no such record")])
    return record


def create(write: Write, resource: Resource, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a record (the server picks the id if the body has none); return it."""
    return _single(write, resource, _change(write, resource, CREATE, 0, body))


def replace(write: Write, resource: Resource, record_id: str, body: Mapping) -> dict[str, Any]:
    """Replace a record with the body's fields; return it."""
    return _single(write, resource, _change(write, resource, REPLACE, 0, body, record_id))


def update(write: Write, resource: Resource, record_id: str, patch: Mapping) -> dict[str, Any]:
    """Apply a JSON merge patch to a record; return it."""
    return _single(write, resource, _change(write, resource, UPDATE, 0, patch, record_id))


def delete(write: Write, resource: Resource, record_id: str) -> None:
    """Delete a record."""
    _single(write, resource, Change(DELETE, 0, record_id))


def bulk(
    write: Write,
    resource: Resource,
    creates: Sequence[Mapping[str, Any]] = (),
    updates: Sequence[Mapping[str, Any]] = (),
    deletes: Sequence[str] = (),
) -> list[Change]:
    """Apply many creates, updates (merge patches naming their ``id``) and deletes at once."""
    changes = [_change(write, resource, CREATE, i, body) for i, body in enumerate(creates)]
    for i, patch in enumerate(updates):
        changes.append(_change(write, resource, UPDATE, i, patch, patch.get("id")))
    changes += [Change(DELETE, i, record_id) for i, record_id in enumerate(deletes)]
    for change in changes:
        _check_id(change)
    apply(write, resource, changes)
    return changes


def _change(write: Write, resource: Resource, op: str, index: int, body, record_id=None):
    body_id = body.get("id")
    if op == CREATE:
        record_id = body_id or new_id(
            resource.id_prefix, write.store.tenant_id, write.scope, write.key, index
        )
    change = Change(op, index, record_id, body)
    if op == REPLACE and body_id is not None and body_id != record_id:
        change.fail(422, "id", "must match the id in the path (ids cannot change)")
    if op == UPDATE and "id" in body and body_id != record_id:
        change.fail(422, "id", "ids cannot change")
    return change


def _check_id(change: Change) -> None:
    value = change.id
    if not isinstance(value, str) or not 0 < len(value) <= ID_MAX_CHARS:
        change.id = None if not isinstance(value, str) else value
        change.fail(422, "id", f"required: a string of 1-{ID_MAX_CHARS} characters")


def _single(write: Write, resource: Resource, change: Change) -> dict[str, Any]:
    _check_id(change)
    apply(write, resource, [change])
    raise_for(change.status, change.errors)
    return change.record or {}
