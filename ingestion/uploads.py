"""Resumable uploads: chunks arrive by index in any order; completion ingests them as one body.

Chunk bytes live under ``<var>/uploads/<tenant>/<session>/<index>.part`` (written atomically);
the session row in the control DB records which chunks are present with their size and SHA-256.
Completion streams the chunks in index order through the normal ingest path with the session id
as Idempotency-Key, so completing twice lands nothing new. Expired sessions are swept away.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingestion.body import BLOCK_BYTES, BodyError
from warehouse.controldb import transaction
from warehouse.controldb.models import UploadSession, utcnow
from warehouse.errors import ServiceError

MAX_CHUNKS = 10_000


class UploadError(ServiceError):
    """A request about an upload session that cannot be honoured (status, field, reason)."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(field, reason, status)


@dataclass(frozen=True)
class UploadStore:
    """Where chunk files live and how long sessions last."""

    root: Path
    ttl: timedelta

    def session_dir(self, tenant_id: int, upload_id: str) -> Path:
        return self.root / str(tenant_id) / upload_id


def create(
    factory: sessionmaker[Session],
    store: UploadStore,
    tenant_id: int,
    entity: str,
    content_type: str,
    content_encoding: str | None,
    total_chunks: int | None,
    created_by: str,
) -> UploadSession:
    """Open a new upload session."""
    if total_chunks is not None and not 1 <= total_chunks <= MAX_CHUNKS:
        raise UploadError(422, "total_chunks", f"must be between 1 and {MAX_CHUNKS}")
    sweep_expired(factory, store)
    with transaction(factory) as session:
        upload = UploadSession(
            id=secrets.token_urlsafe(18),
            tenant_id=tenant_id,
            entity=entity,
            content_type=content_type,
            content_encoding=content_encoding,
            total_chunks=total_chunks,
            chunks={},
            created_by=created_by,
            expires_at=utcnow() + store.ttl,
        )
        session.add(upload)
    store.session_dir(tenant_id, upload.id).mkdir(parents=True, exist_ok=True)
    return upload


def get(factory: sessionmaker[Session], tenant_id: int, upload_id: str) -> UploadSession:
    """Return a live session of this tenant (another tenant's id is simply not found)."""
    with factory() as session:
        upload = session.scalar(
            select(UploadSession).where(
                UploadSession.id == upload_id, UploadSession.tenant_id == tenant_id
            )
        )
    if upload is None or upload.expires_at <= utcnow():
        raise UploadError(404, "upload_id", "no such upload session (or it expired)")
    return upload


def put_chunk(
    factory: sessionmaker[Session],
    store: UploadStore,
    upload: UploadSession,
    index: int,
    stream: IO[bytes],
    max_bytes: int,
) -> dict:
    """Store one chunk atomically (replacing an earlier copy) and record it on the session."""
    if upload.status != "open":
        raise UploadError(409, "upload_id", f"session is {upload.status}")
    limit = upload.total_chunks or MAX_CHUNKS
    if not 0 <= index < limit:
        raise UploadError(422, "index", f"must be between 0 and {limit - 1}")
    final = store.session_dir(upload.tenant_id, upload.id) / f"{index}.part"
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{index}.{secrets.token_hex(4)}.tmp")
    digest, size = hashlib.sha256(), 0
    try:
        with open(temp, "wb") as out:
            while block := stream.read(BLOCK_BYTES):
                size += len(block)
                if size > max_bytes:
                    raise UploadError(413, "body", f"chunk exceeds {max_bytes} bytes")
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)
    info = {"size": size, "sha256": digest.hexdigest()}
    with transaction(factory, write=True) as session:
        row = session.get(UploadSession, upload.id, with_for_update=True)
        row.chunks = {**row.chunks, str(index): info}
    return info


def missing_chunks(upload: UploadSession) -> list[int]:
    """Return the indexes still to send (needs total_chunks; else none are known missing)."""
    if upload.total_chunks is None:
        return []
    return [i for i in range(upload.total_chunks) if str(i) not in upload.chunks]


def chunk_stream(store: UploadStore, upload: UploadSession) -> Iterator[bytes]:
    """Yield the stored chunks' bytes in index order, as one body."""
    for index in sorted(int(i) for i in upload.chunks):
        path = store.session_dir(upload.tenant_id, upload.id) / f"{index}.part"
        try:
            with open(path, "rb") as chunk:
                while block := chunk.read(BLOCK_BYTES):
                    yield block
        except FileNotFoundError:
            raise BodyError(409, f"chunks.{index}", "chunk file is missing; resend it") from None


def mark_completed(
    factory: sessionmaker[Session], store: UploadStore, upload: UploadSession, result: dict
) -> None:
    """Record the ingest result and delete the chunk files."""
    with transaction(factory, write=True) as session:
        row = session.get(UploadSession, upload.id, with_for_update=True)
        row.status, row.result = "completed", result
    shutil.rmtree(store.session_dir(upload.tenant_id, upload.id), ignore_errors=True)


def sweep_expired(factory: sessionmaker[Session], store: UploadStore) -> int:
    """Delete expired sessions and their chunk files; return how many went."""
    with transaction(factory, write=True) as session:
        expired = list(
            session.scalars(select(UploadSession).where(UploadSession.expires_at <= utcnow()))
        )
        for upload in expired:
            shutil.rmtree(store.session_dir(upload.tenant_id, upload.id), ignore_errors=True)
            session.delete(upload)
    return len(expired)
