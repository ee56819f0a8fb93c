"""Idempotency-Key bookkeeping in the control DB.

A key is first recorded as ``in_progress``; landing is idempotent per chunk, so a retry after a
crash simply runs again and finds its chunks landed. Once a request finishes, its body hash and
response are stored: a retry with the same body gets that response back, a retry with a
different body is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb import transaction
from warehouse.controldb.models import IdempotencyRecord, utcnow

KEY_TTL = timedelta(days=7)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The finished outcome of an earlier request with the same key."""

    body_sha256: str
    response: dict[str, Any]
    status: int


def start(
    factory: sessionmaker[Session], tenant_id: int, scope: str, key: str
) -> StoredResponse | None:
    """Record the key as in progress, or return the stored outcome if it already finished."""
    for _attempt in range(2):
        try:
            with transaction(factory, write=True) as session:
                record = _find(session, tenant_id, scope, key)
                if record is not None:
                    return _stored(record)
                session.add(
                    IdempotencyRecord(
                        tenant_id=tenant_id,
                        scope=scope,
                        key=key,
                        expires_at=utcnow() + KEY_TTL,
                    )
                )
                return None
        except IntegrityError:
            continue  # a concurrent request inserted the same key first; read it
    raise RuntimeError("idempotency record could not be created or read")


def finish(
    factory: sessionmaker[Session],
    tenant_id: int,
    scope: str,
    key: str,
    body_sha256: str,
    response: dict[str, Any],
    status: int,
) -> None:
    """Store the outcome of a finished request under its key."""
    with transaction(factory, write=True) as session:
        record = _find(session, tenant_id, scope, key)
        if record is None:
            return
        record.status, record.body_sha256 = "completed", body_sha256
        record.response, record.response_status = response, status
        record.completed_at = utcnow()


def prune(factory: sessionmaker[Session]) -> int:
    """Delete keys past their expiry; return how many went."""
    with transaction(factory, write=True) as session:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < utcnow())
        )
        return result.rowcount or 0


def _find(session: Session, tenant_id: int, scope: str, key: str) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.tenant_id == tenant_id,
        IdempotencyRecord.scope == scope,
        IdempotencyRecord.key == key,
    )
    return session.scalar(query.with_for_update())


def _stored(record: IdempotencyRecord) -> StoredResponse | None:
    if record.status != "completed" or record.response is None:
        return None
    return StoredResponse(record.body_sha256 or "", record.response, record.response_status or 200)
