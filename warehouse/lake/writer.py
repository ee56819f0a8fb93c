"""Land a batch in the raw zone: atomic, durable, idempotent, tenant-partitioned zstd Parquet.

One call lands all of a batch's entities (an order batch: ``orders`` and ``order_items``) and
returns only when every file and the ledger entry are durable, so its return is the moment a
batch may be acknowledged. See :mod:`warehouse.lake.ledger` for how retries are recognised.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.errors import ServiceError
from warehouse.lake import fsio, ledger
from warehouse.lake.layout import batch_file, check_batch_id, check_entity, check_tenant_id

log = logging.getLogger(__name__)

OPS = ("upsert", "delete")
COMPRESSION = "zstd"
# No dictionary pages: batch files are small and their strings mostly unique (ids, names,
# emails), so dictionaries were built and then abandoned; zstd alone writes them ~25% faster
# and ~10% smaller (BENCHMARKS.md, ingest). Compaction and the build re-encode anyway.
WRITE_OPTIONS = {"compression": COMPRESSION, "use_dictionary": False}
TIMESTAMP = pa.timestamp("us", tz="UTC")
METADATA_COLUMNS = ("_batch_id", "_ingested_at", "_seq", "_op", "_source")
_SOURCE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class LandedBatch:
    """Where a batch landed: file per entity (entities with rows only) and rows per entity.

    ``already_landed`` is True when the call found the batch committed and wrote nothing; its
    ``paths`` are where the files first landed (compaction may have merged them since).
    """

    batch_id: str
    tenant_id: int
    ingested_at: datetime
    paths: dict[str, Path]
    rows: dict[str, int]
    already_landed: bool = False


def batch_id_for(tenant_id: int, idempotency_key: str, chunk_index: int) -> str:
    """Derive a batch id: 32 hex digits of SHA-256 over (tenant, key, chunk index)."""
    check_tenant_id(tenant_id)
    if not isinstance(idempotency_key, str) or not idempotency_key:
        raise ValueError("idempotency_key must be a non-empty string")
    if type(chunk_index) is not int or chunk_index < 0:
        raise ValueError(f"chunk_index must be an int >= 0, got {chunk_index!r}")
    material = json.dumps([tenant_id, idempotency_key, chunk_index], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def land_batch(
    lake_root: Path | str,
    tenant_id: int,
    batch_id: str,
    tables: Mapping[str, pa.Table],
    *,
    source: str,
    op: str = "upsert",
    content_sha256: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> LandedBatch:
    """Land ``tables`` (lake entity -> rows) as batch ``batch_id`` of ``tenant_id``.

    Adds ``_batch_id, _ingested_at, _seq, _op, _source`` to every row. Idempotent: if the batch
    is already committed nothing is written and the stored result is returned. ``tenant_id`` is
    taken from the caller (the authenticated tenant) and only ever used in the path. With
    ``content_sha256``, a batch id already claimed for different content raises
    :class:`BatchConflict`.
    """
    root = Path(lake_root)
    _check_args(tenant_id, batch_id, tables, source, op)
    entry = ledger.read(root, tenant_id, batch_id)
    if entry is None:
        planned = _plan(root, tenant_id, batch_id, tables, source, op, clock)
        entry = ledger.claim(root, msgspec.structs.replace(planned, content_sha256=content_sha256))
    if content_sha256 and entry.content_sha256 and entry.content_sha256 != content_sha256:
        raise BatchConflict(batch_id)
    if entry.state == "committed":
        return _result(root, entry, already_landed=True)
    paths = {e: batch_file(root, e, tenant_id, entry.ingested_at.date(), batch_id) for e in tables}
    files = {**{e: str(p.relative_to(root)) for e, p in paths.items()}, **entry.files}
    rows = _land_files(paths, tables, entry)
    entry = ledger.commit(root, msgspec.structs.replace(entry, files=files, rows=rows))
    log.info("batch landed", extra={"batch_id": batch_id, "tenant_id": tenant_id, "rows": rows})
    return _result(root, entry, already_landed=False)


class BatchConflict(ServiceError):
    """The batch id was already used for different content (e.g. a key reused mid-retry)."""

    status = 409

    def __init__(self, batch_id: str) -> None:
        super().__init__("Idempotency-Key", f"batch {batch_id} already holds different content")


def _check_args(tenant_id, batch_id, tables, source, op) -> None:
    check_tenant_id(tenant_id)
    check_batch_id(batch_id)
    if not isinstance(source, str) or not _SOURCE.match(source):
        raise ValueError(f"invalid source {source!r}")
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    for entity, table in tables.items():
        check_entity(entity)
        if not isinstance(table, pa.Table):
            raise TypeError(f"{entity}: expected a pyarrow.Table, got {type(table).__name__}")
        # Tenant and metadata columns come from the caller's arguments, never from row data.
        reserved = [n for n in table.column_names if n == "tenant_id" or n.startswith("_")]
        if reserved:
            raise ValueError(f"{entity}: reserved column(s) in row data: {reserved}")


def _plan(root, tenant_id, batch_id, tables, source, op, clock) -> ledger.LedgerEntry:
    now = (clock or (lambda: datetime.now(UTC)))().astimezone(UTC)
    files = {
        entity: str(batch_file(root, entity, tenant_id, now.date(), batch_id).relative_to(root))
        for entity, table in tables.items()
        if table.num_rows
    }
    return ledger.LedgerEntry(
        batch_id=batch_id, tenant_id=tenant_id, ingested_at=now, source=source, op=op, files=files
    )


def _land_files(paths: dict[str, Path], tables: Mapping[str, pa.Table], entry) -> dict[str, int]:
    """Land every non-empty table; several at once, since Parquet writes and fsyncs drop the GIL."""
    todo = [entity for entity, table in tables.items() if table.num_rows]
    rows = dict.fromkeys(tables, 0)
    if len(todo) == 1:
        rows[todo[0]] = _land_file(paths[todo[0]], tables[todo[0]], entry)
    elif todo:
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:
            futures = {e: pool.submit(_land_file, paths[e], tables[e], entry) for e in todo}
        rows.update({entity: future.result() for entity, future in futures.items()})
    return rows


def _land_file(path: Path, table: pa.Table, entry: ledger.LedgerEntry) -> int:
    """Write one entity's file unless an earlier attempt already made it durable."""
    if path.exists():
        return pq.read_metadata(path).num_rows
    stamped = with_metadata_columns(table, entry)
    fsio.publish(path, lambda temp: pq.write_table(stamped, temp, **WRITE_OPTIONS))
    return table.num_rows


def with_metadata_columns(table: pa.Table, entry: ledger.LedgerEntry) -> pa.Table:
    """Append the five metadata columns and record the batch in the schema metadata."""
    n = table.num_rows
    columns = {
        "_batch_id": pa.repeat(pa.scalar(entry.batch_id, pa.string()), n),
        "_ingested_at": pa.repeat(pa.scalar(entry.ingested_at, TIMESTAMP), n),
        "_seq": _arange(n),
        "_op": pa.repeat(pa.scalar(entry.op, pa.string()), n),
        "_source": pa.repeat(pa.scalar(entry.source, pa.string()), n),
    }
    for name, values in columns.items():
        table = table.append_column(name, values)
    metadata = dict(table.schema.metadata or {})
    metadata[b"shoplake.batch_id"] = entry.batch_id.encode()
    return table.replace_schema_metadata(metadata)


def _arange(n: int) -> pa.Array:
    if n == 0:
        return pa.array([], pa.int64())
    return pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)


def _result(root: Path, entry: ledger.LedgerEntry, *, already_landed: bool) -> LandedBatch:
    paths = {entity: root / rel for entity, rel in entry.files.items() if entry.rows.get(entity)}
    return LandedBatch(
        entry.batch_id, entry.tenant_id, entry.ingested_at, paths, dict(entry.rows), already_landed
    )
