"""Publish a finished build: export its marts into a new snapshot and switch CURRENT to it.

Steps, each safe to die in: write everything into a staging folder; fsync it; rename it to its
build id; record and switch CURRENT (temp file, fsync, rename); prune old snapshots. Until the
CURRENT rename, readers see the previous snapshot only; after it, the new one only. Call this
while holding the build lock, so no dbt run writes the build database at the same time.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from warehouse.publish.export import MartExport, MartSpec, Previous, discover_marts, export_marts
from warehouse.publish.layout import (
    MANIFEST,
    STAGING_PREFIX,
    fsync_dir,
    fsync_tree,
    new_build_id,
    snapshots_dir,
)
from warehouse.publish.reader import NoSnapshot, Snapshot, current_snapshot
from warehouse.publish.retention import clear_staging, prune, switch_current

log = logging.getLogger(__name__)
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Retention:
    """How many snapshots to keep, and how long a replaced one stays readable."""

    keep: int = 3
    grace_seconds: float = 600.0


def publish(
    build_db: Path,
    var_dir: Path,
    *,
    watermark: datetime | None,
    tail_from: datetime | None = None,
    marts: Sequence[MartSpec] | None = None,
    retention: Retention | None = None,
    info: Mapping[str, Any] | None = None,
    reuse: bool = True,
    trusted_invocation: str | None = None,
) -> Snapshot:
    """Export the build's marts as a new snapshot, make it CURRENT, and prune old ones.

    ``tail_from``: raw rows landed after this instant may be missing from the build (batches
    still landing while it read the lake); readers add them from the raw zone. None leaves the
    choice to the reader. ``reuse`` links partitions whose rows are unchanged from the current
    snapshot instead of writing them again (a full refresh passes False, so it writes every
    file anew). ``trusted_invocation``: the caller vouches that this dbt invocation built the
    database from the state the current snapshot was published from; marts whose change
    marker says it changed nothing are linked without being read (export.py).
    """
    root = snapshots_dir(var_dir)
    root.mkdir(parents=True, exist_ok=True)
    clear_staging(var_dir)
    build_id = new_build_id()
    previous = _previous(var_dir) if reuse else None
    manifest_of = partial(build_manifest, build_id, watermark, info=info, tail_from=tail_from)
    staging = root / f"{STAGING_PREFIX}{build_id}"
    manifest = _stage(build_db, staging, marts, previous, manifest_of, trusted_invocation)
    os.rename(staging, root / build_id)
    fsync_dir(root)
    switch_current(var_dir, build_id)
    policy = retention or Retention()
    removed = prune(var_dir, policy.keep, policy.grace_seconds)
    log.info("published marts", extra={"build_id": build_id, "pruned": removed})
    return Snapshot(build_id=build_id, path=root / build_id, manifest=manifest)


def _previous(var_dir: Path) -> Previous | None:
    try:
        snapshot = current_snapshot(var_dir)
    except NoSnapshot:
        return None
    return Previous(snapshot.path, snapshot.manifest)


def _stage(
    build_db: Path,
    staging: Path,
    marts: Sequence[MartSpec] | None,
    previous: Previous | None,
    manifest_of: Callable[[Mapping[str, MartExport]], dict[str, Any]],
    trusted_invocation: str | None = None,
) -> dict[str, Any]:
    staging.mkdir()
    try:
        with duckdb.connect(str(build_db), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")  # periods of timestamps, for files split by one
            specs = discover_marts(con) if marts is None else marts
            exports = export_marts(con, specs, staging, previous, trusted_invocation)
        manifest = manifest_of(exports)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        fsync_tree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def build_manifest(
    build_id: str,
    watermark: datetime | None,
    exports: Mapping[str, MartExport],
    info: Mapping[str, Any] | None = None,
    tail_from: datetime | None = None,
) -> dict[str, Any]:
    """Return the manifest of a snapshot: ids, times, row counts and schemas."""
    return {
        "format": MANIFEST_FORMAT,
        "build_id": build_id,
        "created_at": datetime.now(UTC).isoformat(),
        "watermark": _instant("watermark", watermark),
        "tail_from": _instant("tail_from", tail_from),
        "build": dict(info or {}),
        "reused_files": sum(export.reused for export in exports.values()),
        "marts": {name: export.as_manifest() for name, export in sorted(exports.items())},
    }


def _instant(name: str, value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC).isoformat()
