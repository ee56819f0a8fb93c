"""The batch ledger: one small JSON file per landed batch, the writer's idempotency record.

Landing a batch first *claims* it: a ``pending`` entry fixing ``_ingested_at`` (hence the date
partition and every file path) is created exclusively and made durable before any data file.
After all data files are durable the entry is rewritten as ``committed`` with the row counts.

* A retry of a committed batch returns the stored result without touching data files, even
  after the batch's files were merged away by compaction or the UTC date has changed.
* A retry of a pending batch (the writer crashed part-way) reuses the same ``_ingested_at`` and
  paths, so files that did land are kept and only missing ones are written: never twice.
* Compaction leaves files of pending batches alone, so a retry still finds them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import msgspec

from warehouse.lake import fsio
from warehouse.lake.layout import ledger_file

State = Literal["pending", "committed"]


class LedgerEntry(msgspec.Struct, kw_only=True):
    """What a batch is (or will be) in the lake; ``files`` maps entity -> path relative to root."""

    batch_id: str
    tenant_id: int
    ingested_at: datetime
    source: str
    op: str
    state: State = "pending"
    # SHA-256 of the content the batch was made from, when the caller gave one: a retry
    # carrying other content under the same batch id is refused instead of silently dropped.
    content_sha256: str | None = None
    files: dict[str, str] = {}
    rows: dict[str, int] = {}


_decoder = msgspec.json.Decoder(LedgerEntry)


def read(root: Path, tenant_id: int, batch_id: str) -> LedgerEntry | None:
    """Return a batch's ledger entry, or None if it was never claimed."""
    try:
        data = ledger_file(root, tenant_id, batch_id).read_bytes()
    except FileNotFoundError:
        return None
    return _decoder.decode(data)


def state(root: Path, tenant_id: int, batch_id: str) -> State | None:
    """Return ``pending``, ``committed`` or None (no entry) for a batch."""
    entry = read(root, tenant_id, batch_id)
    return entry.state if entry else None


def claim(root: Path, entry: LedgerEntry) -> LedgerEntry:
    """Durably create a pending entry unless one exists; return the entry that is in force."""
    path = ledger_file(root, entry.tenant_id, entry.batch_id)
    if fsio.publish_bytes(path, msgspec.json.encode(entry), exclusive=True):
        return entry
    existing = read(root, entry.tenant_id, entry.batch_id)
    assert existing is not None  # the exclusive create lost to an entry that exists
    return existing


def commit(root: Path, entry: LedgerEntry) -> LedgerEntry:
    """Durably mark a batch committed (all its data files are durable)."""
    done = msgspec.structs.replace(entry, state="committed")
    fsio.publish_bytes(
        ledger_file(root, entry.tenant_id, entry.batch_id), msgspec.json.encode(done)
    )
    return done
