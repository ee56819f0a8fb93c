"""Compact small landed files per (entity, tenant, date) partition into few sorted files.

Per partition, one run:

1. finishes an interrupted earlier run: inputs still visible beside the compacted file that
   lists them in its footer (``shoplake.replaces``) are moved to the trash;
2. takes every visible file except those of *pending* batches (see :mod:`~warehouse.lake.ledger`;
   a retry must still find them) and, when ``keep_newer_than`` is given, landed files renamed into
   place after it (see below); of those it picks a size tier (below), and if the tier has at
   least ``min_files`` files, merges them sorted by business key, then ``_ingested_at, _batch_id,
   _seq``, into ``compacted-<time>-<rand>.parquet`` (written to a temporary, fsynced, renamed,
   folder fsynced);
3. moves the inputs to ``_trash/<run>/`` (outside every glob) and fsyncs the folder.

Why tiers: merging every file each run rewrote the whole day partition to add a few new rows, so
a build's compaction cost grew with the day's total. A run merges the small files (up to
:data:`SMALL_FILE_BYTES`), and a larger file only once the smaller ones add up to at least its
size (:func:`size_tier`). Such a merged file is at least twice as large as its largest input, so
a row is rewritten at most log2(partition / small file) times beyond the small files, a run's
cost follows the new data, and a partition keeps about that many files.

Guarantee for readers: a file is never visible half-written, and every row is visible at all
times (the merged file is published before any input leaves). Between steps 2 and 3 - or until
the next run if the process dies in between - a row can be visible twice: once in an input and
once in the merged file; the copies are identical and share ``(_batch_id, _seq)``, and the merged
file's footer names the inputs it replaces, which :func:`warehouse.lake.reader.list_files` uses
to read each row once. Readers that glob and open files later may find an input gone (retry the
listing). Idempotency is untouched: it lives in the batch ledger, not in file names.

Why keep the newest files apart: API reads add the raw rows landed after the published snapshot's
``tail_from`` to it. Rows merged into a partition's compacted file are spread over all its row
groups (the file is sorted by key), so a reader had to scan the whole file for the few newest
rows. A build passes the instant its snapshot's tail can start from at the earliest; a file renamed
into place before it holds only rows stamped before it (a row is stamped before its file becomes
visible), so the compacted file's ``_ingested_at`` statistics then let tail readers skip it.
The files kept apart are merged by the next build's compaction.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from warehouse.lake import current, duck, fsio, ledger, trash
from warehouse.lake.layout import (
    COMPACTED_PREFIX,
    DATA_SUFFIX,
    batch_id_of,
    is_compacted,
    is_data_file,
    partitions,
    tenants,
)
from warehouse.lake.lock import exclusive
from warehouse.lake.reader import REPLACES_KEY, replaced_by

log = logging.getLogger(__name__)

SMALL_FILE_BYTES = 4 * 2**20
"""Files up to this size always merge: rewriting them is cheap, keeping them apart costs opens."""


@dataclass
class CompactionReport:
    """What one :func:`compact` call did."""

    partitions: list[dict] = field(default_factory=list)
    current: dict[str, int] = field(default_factory=dict)
    skipped_pending: int = 0
    skipped_recent: int = 0
    finished_interrupted: int = 0
    temporaries_removed: int = 0
    trash_purged: int = 0


def compact(
    lake_root: Path | str,
    *,
    entities: list[str] | None = None,
    tenant_ids: list[int] | None = None,
    min_files: int = 2,
    current_entities: Collection[str] | None = None,
    grace: timedelta = timedelta(hours=1),
    memory_limit: str = "1GB",
    keep_newer_than: datetime | None = None,
) -> CompactionReport:
    """Compact every partition (optionally only some entities / tenants) and refresh current state.

    Landed files renamed into place at or after ``keep_newer_than`` are left as they are.
    Current state is refreshed for the compacted entities in ``current_entities`` (default: all
    of them; an empty collection: none) - only readers that fall back to it need it.

    Raises :class:`~warehouse.lake.lock.LakeBusy` if another compaction holds the lake's lock.
    """
    from warehouse.contracts import LAKE_ENTITIES  # the lake's keys are the contracts' keys

    unknown = set(entities or ()) - set(LAKE_ENTITIES)
    if unknown:
        raise ValueError(f"unknown lake entities: {sorted(unknown)}")
    root = Path(lake_root)
    now = datetime.now(UTC)
    report = CompactionReport()
    started = time.perf_counter()
    with exclusive(root, "compaction"), duck.connect(root, memory_limit) as conn:
        report.trash_purged = trash.purge(root, now, grace)
        run = trash.new_run(root, now)
        for entity in entities if entities is not None else list(LAKE_ENTITIES):
            spec = LAKE_ENTITIES[entity]
            for tenant in tenant_ids if tenant_ids is not None else tenants(root, entity):
                for day, folder in partitions(root, entity, tenant):
                    report.temporaries_removed += trash.sweep_temporaries(folder, grace)
                    where = (entity, tenant, day)
                    _compact_partition(
                        conn, root, run, where, folder, spec.key, min_files, keep_newer_than, report
                    )
                if current_entities is None or entity in current_entities:
                    parent_key = LAKE_ENTITIES[spec.parent[0]].key if spec.parent else ("id",)
                    _refresh_current(conn, root, spec, tenant, parent_key, report)
    seconds = round(time.perf_counter() - started, 3)
    log.info(
        "compaction finished",
        extra={
            "partitions": len(report.partitions),
            "current": len(report.current),
            "seconds": seconds,
        },
    )
    return report


def _refresh_current(conn, root, spec, tenant, parent_key, report: CompactionReport) -> None:
    rows = current.refresh(conn, root, spec, tenant, parent_key)
    if rows is not None:
        report.current[f"{spec.name}/tenant_id={tenant}"] = rows
        log.info(
            "current state rebuilt", extra={"entity": spec.name, "tenant_id": tenant, "rows": rows}
        )


def _compact_partition(
    conn, root, run, where, folder, key, min_files, keep_newer_than, report
) -> None:
    entity, tenant, day = where
    names = {name for name in (p.name for p in folder.iterdir()) if is_data_file(name)}
    stale = set()
    for name in sorted(n for n in names if is_compacted(n)):
        stale |= replaced_by(folder / name) & names
    if stale:
        trash.discard(root, run, [folder / n for n in sorted(stale)])
        report.finished_interrupted += len(stale)
        names -= stale
    eligible = {}
    for name in sorted(names):
        batch = batch_id_of(name)
        if batch and ledger.state(root, tenant, batch) == "pending":
            report.skipped_pending += 1
            continue
        if batch and keep_newer_than and fsio.published_since(folder / name, keep_newer_than):
            report.skipped_recent += 1
            continue
        eligible[name] = (folder / name).stat().st_size
    tier = size_tier(eligible)
    if len(tier) < max(min_files, 2):
        return
    started = time.perf_counter()
    output, rows = _merge(conn, folder, tier, key)
    trash.discard(root, run, [folder / n for n in tier])
    summary = {
        "entity": entity,
        "tenant_id": tenant,
        "date": day.isoformat(),
        "inputs": len(tier),
        "left_apart": len(eligible) - len(tier),
        "rows": rows,
        "output": output.name,
        "seconds": round(time.perf_counter() - started, 3),
    }
    report.partitions.append(summary)
    log.info("partition compacted", extra=summary)


def size_tier(sizes: Mapping[str, int], floor: int | None = None) -> list[str]:
    """Return the files to merge: the small ones, then each next one no larger than those before.

    ``sizes`` maps file name to bytes. Walking up from the smallest, a file joins while its size
    is at most the sum of the files already taken, or at most ``floor`` (default
    :data:`SMALL_FILE_BYTES`: small files always merge, whatever their sizes); the first larger
    file and all above it stay as they are.
    """
    floor = SMALL_FILE_BYTES if floor is None else floor
    taken: list[str] = []
    total = 0
    for name, size in sorted(sizes.items(), key=lambda item: (item[1], item[0])):
        if taken and size > max(total, floor):
            break
        taken.append(name)
        total += size
    return sorted(taken)


def _merge(conn, folder: Path, inputs: list[str], key: tuple[str, ...]) -> tuple[Path, int]:
    files = [folder / name for name in inputs]
    order = ", ".join(duck.quote(c) for c in (*key, "_ingested_at", "_batch_id", "_seq"))
    sql = f"select * from read_parquet($files, union_by_name = true) order by {order}"
    output = folder / f"{COMPACTED_PREFIX}{_stamp()}{DATA_SUFFIX}"
    metadata = _carried_metadata(files[0])
    metadata.update(
        {REPLACES_KEY.decode(): json.dumps(inputs), "shoplake.compacted_at": _now_iso()}
    )
    rows = duck.write_query(
        conn, sql, {"files": [str(f) for f in files]}, output, duck.unified_schema(files), metadata
    )
    return output, rows


def _carried_metadata(path: Path) -> dict[str, str]:
    kept = (b"shoplake.contract", b"shoplake.contract_version")
    metadata = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in metadata.items() if k in kept}


def _stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()
