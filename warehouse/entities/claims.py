"""Record locks and unique-value claims in the control DB, held by the transaction of one write.

A CRUD write first locks the rows of the records it changes (kind ``id:<entity>``) and the
values it wants to hold (kind ``sku`` or ``email``), always in sorted order so two writers never
wait on each other in a cycle. On PostgreSQL a second writer of the same value blocks on the
row (or on the unique index, for a value nobody held yet) until the first commits - after it
landed - so its own check of the lake then sees the first write. On SQLite the write transaction
locks the database at BEGIN, which serialises writers outright.

Rows can go stale (bulk ingest changes a SKU without passing here), so a claim held by another
record only counts if the lake says that record still has the value; the lake is the truth,
this table is the fence against races between writes that both passed their check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warehouse.controldb.models import UniqueValue, utcnow


def lock_kind(entity: str) -> str:
    """Return the kind of a record's lock row (``id:products``)."""
    return f"id:{entity}"


@dataclass
class Claims:
    """The locks and claims one write transaction holds."""

    session: Session
    tenant_id: int
    holders: dict[tuple[str, str], str] = field(default_factory=dict)
    inserted: set[tuple[str, str]] = field(default_factory=set)

    def acquire(self, wanted: Iterable[tuple[str, str, str]]) -> None:
        """Lock or insert each ``(kind, value, entity_id)``, in sorted order."""
        for kind, value, entity_id in sorted(set(wanted)):
            if (kind, value) in self.holders:
                continue
            row = self._locked(kind, value)
            if row is None:
                row = self._insert(kind, value, entity_id)
            self.holders[(kind, value)] = row.entity_id

    def lock(self, entity: str, ids: Iterable[str]) -> None:
        """Take the write lock of each record of ``entity``."""
        kind = lock_kind(entity)
        self.acquire((kind, record_id, record_id) for record_id in ids)

    def settle(self, kind: str, values: Mapping[str, set[str]]) -> None:
        """Make each record (id -> its values of ``kind``) hold exactly those values."""
        for entity_id, held in values.items():
            for value in held:
                row = self._row(kind, value)
                if row is not None and row.entity_id != entity_id:
                    row.entity_id, row.updated_at = entity_id, utcnow()
            stale = delete(UniqueValue).where(
                *self._where(kind), UniqueValue.entity_id == entity_id
            )
            if held:
                stale = stale.where(UniqueValue.value.not_in(sorted(held)))
            self.session.execute(stale)

    def forget(self, kind: str, entity_ids: Iterable[str]) -> None:
        """Drop rows this transaction inserted for records whose write failed."""
        failed = set(entity_ids)
        for claim_kind, value in sorted(self.inserted):
            if claim_kind == kind and self.holders.get((kind, value)) in failed:
                self.session.execute(delete(UniqueValue).where(*self._where(kind, value)))

    def _where(self, kind: str, value: str | None = None) -> list:
        clauses = [UniqueValue.tenant_id == self.tenant_id, UniqueValue.kind == kind]
        return clauses + ([UniqueValue.value == value] if value is not None else [])

    def _row(self, kind: str, value: str) -> UniqueValue | None:
        return self.session.scalar(select(UniqueValue).where(*self._where(kind, value)))

    def _locked(self, kind: str, value: str) -> UniqueValue | None:
        query = select(UniqueValue).where(*self._where(kind, value)).with_for_update()
        return self.session.scalar(query)

    def _insert(self, kind: str, value: str, entity_id: str) -> UniqueValue:
        row = UniqueValue(tenant_id=self.tenant_id, kind=kind, value=value, entity_id=entity_id)
        try:
            with self.session.begin_nested():
                self.session.add(row)
                self.session.flush()
        except IntegrityError:
            # A concurrent write inserted it first and has committed by now: lock its row.
            existing = self._locked(kind, value)
            if existing is None:
                raise
            return existing
        self.inserted.add((kind, value))
        return row
