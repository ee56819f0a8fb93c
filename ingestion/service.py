"""The one write path: stream records in, validate each row, land valid rows in chunks.

Used by HTTP bulk ingest, resumable-upload completion, CRUD writes and webhooks alike. Each
chunk becomes one batch whose id derives from (tenant, idempotency key, chunk index), so a retry
lands nothing twice; a batch is acknowledged only after the writer made it durable.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingestion.body import BodyError, chunked, gunzip, json_array_records, ndjson_records
from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import batch_id_for, land_batch

MAX_REPORTED_ERRORS = 100
CHUNK_BYTES = 4 << 20  # with chunk_rows, bounds the memory one request holds
FORMATS = ("ndjson", "json")


@dataclass(frozen=True)
class IngestSpec:
    """What to ingest and where: the tenant comes from auth, never from the body."""

    lake_root: Path
    tenant_id: int
    entity: str
    fmt: str  # "ndjson" or "json"
    gzip: bool
    idempotency_key: str | None
    source: str
    max_bytes: int
    chunk_rows: int = 50_000


@dataclass
class IngestResult:
    """The response body of an ingest request."""

    idempotency_key: str
    rows_received: int = 0
    rows_inserted: int = 0
    rows_failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    batch_ids: list[str] = field(default_factory=list)
    processing_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class HashingReader:
    """Pass blocks through while hashing them and enforcing the wire-size limit."""

    def __init__(self, blocks: Iterable[bytes], max_bytes: int) -> None:
        self.blocks = blocks
        self.max_bytes = max_bytes
        self.digest = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for block in self.blocks:
            self.size += len(block)
            if self.size > self.max_bytes:
                raise BodyError(413, "body", f"body exceeds {self.max_bytes} bytes")
            self.digest.update(block)
            yield block

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def records_of(spec: IngestSpec, blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Decode the body's framing (gzip, NDJSON or JSON array) into raw records."""
    if spec.fmt not in FORMATS:
        raise BodyError(415, "Content-Type", f"unsupported format {spec.fmt!r}")
    data = gunzip(blocks, spec.max_bytes) if spec.gzip else blocks
    return ndjson_records(data) if spec.fmt == "ndjson" else json_array_records(data)


def ingest(spec: IngestSpec, blocks: Iterable[bytes]) -> tuple[IngestResult, str]:
    """Validate and land a whole body; return the result and the body's SHA-256.

    A body error part-way (truncated gzip, too large) raises :class:`PartialIngest` carrying what
    already landed: those batches stay, durable and acknowledged.
    """
    if spec.entity not in CONTRACTS:
        raise BodyError(404, "entity", f"unknown entity {spec.entity!r}")
    started = time.perf_counter()
    key = spec.idempotency_key or f"auto-{uuid.uuid4().hex}"
    result = IngestResult(idempotency_key=key)
    counts: Counter[str] = Counter()
    reader = HashingReader(blocks, spec.max_bytes)
    try:
        for chunk in chunked(records_of(spec, reader), spec.chunk_rows, CHUNK_BYTES):
            _ingest_chunk(spec, key, chunk, result, counts)
    except BodyError as exc:
        result.processing_ms = _ms(started)
        raise PartialIngest(exc, result) from None
    result.error_counts = dict(counts)
    result.processing_ms = _ms(started)
    return result, reader.hexdigest()


def _ingest_chunk(spec: IngestSpec, key: str, chunk, result: IngestResult, counts: Counter) -> None:
    # NDJSON records hold no newline, so one joined blob keeps row numbers and lets the
    # contract parse the chunk in one pass; JSON-array elements may span lines, so they don't.
    rows = b"\n".join(chunk.records) if spec.fmt == "ndjson" else chunk.records
    tables, errors = validate_records(spec.entity, rows, first_row=chunk.first_row)
    batch_id = batch_id_for(spec.tenant_id, key, chunk.index)
    valid = len(chunk.records) - len({e.row for e in errors})
    if valid:
        digest = hashlib.sha256(b"\n".join(chunk.records)).hexdigest()
        land_batch(
            spec.lake_root,
            spec.tenant_id,
            batch_id,
            tables,
            source=spec.source,
            content_sha256=digest,
        )
        result.batch_ids.append(batch_id)
    # Arrow's allocator keeps freed blocks for reuse; hand them back so a long stream of
    # chunks keeps the worker's footprint at one chunk's worth.
    pa.default_memory_pool().release_unused()
    result.rows_received += len(chunk.records)
    result.rows_inserted += valid
    result.rows_failed += len(chunk.records) - valid
    for error in errors:
        counts[error.field] += 1
        if len(result.errors) < MAX_REPORTED_ERRORS:
            result.errors.append({"row": error.row, "field": error.field, "reason": error.reason})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


class PartialIngest(Exception):
    """The body broke part-way; ``result`` lists the batches that landed before it did."""

    def __init__(self, error: BodyError, result: IngestResult) -> None:
        super().__init__(error.reason)
        self.error = error
        self.result = result


def body_sha256(blocks: Iterable[bytes], max_bytes: int) -> str:
    """Hash a body without landing anything (to check a replayed Idempotency-Key)."""
    reader = HashingReader(blocks, max_bytes)
    for _ in reader:
        pass
    return reader.hexdigest()
