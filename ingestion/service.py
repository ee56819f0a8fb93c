"""The one write path: stream records in, validate each row, land valid rows in chunks.

Used by HTTP bulk ingest, resumable-upload completion, CRUD writes and webhooks alike. Each
chunk becomes one batch whose id derives from (tenant, idempotency key, chunk index), so a retry
lands nothing twice; a batch is acknowledged only after the writer made it durable.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingestion.body import BodyError, Chunk, chunked, gunzip, json_array_records
from ingestion.ndjson import ndjson_chunks
from warehouse.contracts import CONTRACTS, NdjsonLines, validate_records
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


def chunks_of(spec: IngestSpec, blocks: Iterable[bytes]) -> Iterator[Chunk]:
    """Decode the body's framing (gzip, NDJSON or JSON array) into chunks of raw records."""
    if spec.fmt not in FORMATS:
        raise BodyError(415, "Content-Type", f"unsupported format {spec.fmt!r}")
    data = gunzip(blocks, spec.max_bytes) if spec.gzip else blocks
    if spec.fmt == "ndjson":
        return ndjson_chunks(data, spec.chunk_rows, CHUNK_BYTES)
    return chunked(json_array_records(data), spec.chunk_rows, CHUNK_BYTES)


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
    with Lander() as lander:
        try:
            for chunk in chunks_of(spec, reader):
                _ingest_chunk(spec, key, chunk, lander, result, counts)
                del chunk  # its bytes may go before the next chunk is cut
            lander.wait()
        except BodyError as exc:
            lander.wait()  # what is in flight lands (or fails) before the partial answer
            result.processing_ms = _ms(started)
            raise PartialIngest(exc, result) from None
    result.error_counts = dict(counts)
    result.processing_ms = _ms(started)
    return result, reader.hexdigest()


class Lander:
    """Land one chunk in a background thread while the next chunk is read and validated.

    Validation is CPU work; landing mostly waits for fsync (and Parquet encoding drops the GIL),
    so overlapping the two keeps a worker busy. At most one landing is in flight, which bounds
    memory to two chunks; a chunk's outcome is counted only once its batch is durable, in chunk
    order, and the caller answers only after :meth:`wait`, so nothing is acknowledged early.
    """

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shoplake-land")
        self.pending: tuple[Future | None, Callable[[], None]] | None = None

    def submit(self, land: Callable[[], None] | None, account: Callable[[], None]) -> None:
        """Start ``land`` (None: nothing to land) after the previous chunk; then ``account``."""
        self.wait()
        # In the caller's context, so the landing's log lines carry the request id.
        future = self.pool.submit(contextvars.copy_context().run, land) if land else None
        self.pending = (future, account)

    def wait(self) -> None:
        """Block until the chunk in flight is durable and counted; re-raise its failure."""
        if self.pending is None:
            return
        future, account = self.pending
        self.pending = None
        if future is not None:
            future.result()
        account()

    def __enter__(self) -> Lander:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # On an error nothing more is counted, but a landing in flight still finishes.
        self.pool.shutdown(wait=True)
        # Hand the memory of the request's chunks back once it is done. Not after every chunk:
        # the next one needs as much again, and re-faulting it in cost ~2 us of CPU per row.
        pa.default_memory_pool().release_unused()


def _ingest_chunk(
    spec: IngestSpec, key: str, chunk: Chunk, lander: Lander, result: IngestResult, counts: Counter
) -> None:
    # An NDJSON chunk is one blob of lines, which keeps row numbers and lets the contract parse
    # it in one pass; JSON-array elements may span lines, so they stay a list.
    records = chunk.records
    rows = NdjsonLines(records, chunk.rows) if isinstance(records, bytes) else records
    tables, errors = validate_records(spec.entity, rows, first_row=chunk.first_row)
    batch_id = batch_id_for(spec.tenant_id, key, chunk.index)
    valid = chunk.rows - len({e.row for e in errors})
    land = None
    if valid:
        # The digest is over the records joined by newlines, whichever form the chunk has.
        blob = records if isinstance(records, bytes) else b"\n".join(records)
        land = partial(_land, spec, batch_id, tables, hashlib.sha256(blob).hexdigest())
    outcome = _Outcome(batch_id if valid else None, chunk.rows, valid, errors)
    lander.submit(land, partial(outcome.count, result, counts))


@dataclass(frozen=True)
class _Outcome:
    """What one chunk adds to the response once it is durable."""

    batch_id: str | None
    received: int
    inserted: int
    errors: list

    def count(self, result: IngestResult, counts: Counter) -> None:
        if self.batch_id is not None:
            result.batch_ids.append(self.batch_id)
        result.rows_received += self.received
        result.rows_inserted += self.inserted
        result.rows_failed += self.received - self.inserted
        for error in self.errors:
            counts[error.field] += 1
            if len(result.errors) < MAX_REPORTED_ERRORS:
                result.errors.append(
                    {"row": error.row, "field": error.field, "reason": error.reason}
                )


def _land(spec: IngestSpec, batch_id: str, tables: dict, digest: str) -> None:
    land_batch(
        spec.lake_root, spec.tenant_id, batch_id, tables, source=spec.source, content_sha256=digest
    )


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
