"""One requested change to a record, and how its full contract record is built.

Create and replace take the client's fields as the record; update applies them as a JSON merge
patch to the current record. The server fills what the client left out: the id (on create),
``created_at`` (kept from the current record on updates), ``updated_at`` (strictly later than
the current one, so versions keep their order) and defaults such as the tenant's currency.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from warehouse.entities.records import merge_patch, to_wire

CREATE, REPLACE, UPDATE, DELETE = "create", "replace", "update", "delete"
STATUS = "status"  # an update of the order status alone, through the state machine
SUCCESS = {CREATE: 201, REPLACE: 200, UPDATE: 200, STATUS: 200, DELETE: 204}
TICK = timedelta(microseconds=1)


@dataclass
class Change:
    """One item of a write request and, once applied, its outcome."""

    op: str
    index: int
    id: str | None
    body: Mapping[str, Any] = field(default_factory=dict)
    status: int = 0  # 0 while pending
    errors: list[tuple[str, str]] = field(default_factory=list)
    record: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        return self.status == 0

    @property
    def writes(self) -> bool:
        """Tell whether the change lands an upsert (not a delete)."""
        return self.op != DELETE

    def fail(self, status: int, field_name: str, reason: str) -> None:
        """Record a failure unless an earlier one was recorded."""
        if self.pending:
            self.status = status
        if self.status == status:
            self.errors.append((field_name, reason))

    def succeed(self, record: dict[str, Any] | None) -> None:
        """Record success with the record as it now is."""
        self.status, self.record = SUCCESS[self.op], record


def new_id(prefix: str, tenant_id: int, scope: str, key: str | None, index: int) -> str:
    """Return an id for a created record: derived from the Idempotency-Key when there is one.

    A retry of the same request then creates the same id, so it finds its record instead of
    creating a second one.
    """
    if key is None:
        return prefix + uuid.uuid4().hex[:24]
    material = json.dumps([tenant_id, scope, key, index]).encode()
    return prefix + hashlib.sha256(material).hexdigest()[:24]


def later(before: Mapping[str, Any] | None, now: datetime) -> str:
    """Return an ``updated_at`` after the current one (clocks and fast writes can tie)."""
    previous = before.get("updated_at") if before else None
    moment = max(now, previous + TICK) if previous is not None else now
    return moment.astimezone(UTC).isoformat()


def contract_record(
    change: Change,
    before: Mapping[str, Any] | None,
    defaults: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Return the full contract record a create, replace or update change lands."""
    body = {name: value for name, value in change.body.items() if name != "id"}
    if change.op in (UPDATE, STATUS):
        record = merge_patch(to_wire(before or {}), body)
    else:
        record = {**defaults, **{k: v for k, v in body.items() if v is not None}}
    record["id"] = change.id
    created = before.get("created_at") if before else None
    if not record.get("created_at"):
        record["created_at"] = created.isoformat() if created else now.isoformat()
    if not body.get("updated_at"):
        record["updated_at"] = later(before, now)
    return record
