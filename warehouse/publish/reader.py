"""The one way to read published marts: resolve CURRENT to a snapshot, then name a partition.

The serving layer calls :func:`current_snapshot` (per request, or per batch of queries) and
:func:`mart_glob` to get the Parquet files of exactly one tenant's rows; it never opens the build
database. A snapshot folder never changes once published and outlives its replacement by a grace
period, so a reader that resolved it may keep reading it while newer builds are published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from warehouse.publish.layout import (
    CURRENT,
    MANIFEST,
    check_build_id,
    empty_file,
    marts_root,
    partition_dir,
    snapshots_dir,
)

# Between reading CURRENT and opening the manifest the snapshot can only vanish if the reader
# stalled past the grace period; re-reading CURRENT then finds the live one.
_RESOLVE_ATTEMPTS = 3


class NoSnapshot(LookupError):
    """Nothing has been published yet (or CURRENT names a snapshot that is gone)."""


class UnknownMart(LookupError):
    """The snapshot has no mart of that name."""


@dataclass(frozen=True)
class Snapshot:
    """One published build: its id, folder and manifest."""

    build_id: str
    path: Path
    manifest: Mapping[str, Any]

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["created_at"])

    @property
    def watermark(self) -> datetime | None:
        """Return the newest raw ``_ingested_at`` the build included (None: no raw data)."""
        value = self.manifest.get("watermark")
        return datetime.fromisoformat(value) if value else None

    @property
    def tail_from(self) -> datetime | None:
        """Return after when raw rows may be missing from the build (None: not recorded)."""
        value = self.manifest.get("tail_from")
        return datetime.fromisoformat(value) if value else None

    @property
    def marts(self) -> tuple[str, ...]:
        return tuple(sorted(self.manifest["marts"]))

    def rows(self, mart: str, tenant_id: int) -> int:
        """Return how many rows ``mart`` holds for ``tenant_id`` in this snapshot."""
        return int(self._entry(mart)["tenants"].get(str(tenant_id), 0))

    def columns(self, mart: str) -> list[dict[str, str]]:
        """Return the mart's columns as ``[{"name", "type"}]`` (DuckDB type names)."""
        return list(self._entry(mart)["columns"])

    def _entry(self, mart: str) -> Mapping[str, Any]:
        try:
            return self.manifest["marts"][mart]
        except KeyError:
            raise UnknownMart(f"no mart {mart!r} in snapshot {self.build_id}") from None


def current_build_id(var_dir: Path) -> str | None:
    """Return the build id CURRENT names, or None before the first publish."""
    try:
        text = (marts_root(var_dir) / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return check_build_id(text)


def open_snapshot(var_dir: Path, build_id: str) -> Snapshot:
    """Return the snapshot of one build (raise NoSnapshot when it is not on disk)."""
    path = snapshots_dir(var_dir) / check_build_id(build_id)
    try:
        manifest = _manifest(str(path / MANIFEST))
    except FileNotFoundError:
        raise NoSnapshot(f"snapshot {build_id} is not on disk") from None
    return Snapshot(build_id=build_id, path=path, manifest=manifest)


def current_snapshot(var_dir: Path) -> Snapshot:
    """Return the snapshot CURRENT names; raise NoSnapshot before the first publish."""
    for _ in range(_RESOLVE_ATTEMPTS):
        build_id = current_build_id(var_dir)
        if build_id is None:
            raise NoSnapshot("no mart snapshot has been published yet")
        try:
            return open_snapshot(var_dir, build_id)
        except NoSnapshot:
            continue
    raise NoSnapshot(f"CURRENT names {build_id}, which is not on disk")


def mart_glob(snapshot: Snapshot, mart: str, tenant_id: int) -> str:
    """Return a Parquet glob naming only ``tenant_id``'s partition of ``mart``.

    A tenant with no rows in the mart gets the mart's zero-row schema file instead, so the
    caller can always query the result and never has to list another tenant's folder.
    """
    snapshot._entry(mart)
    if snapshot.rows(mart, tenant_id) == 0:
        # partition_dir validates the id even though the folder is not used.
        partition_dir(snapshot.path, mart, tenant_id)
        return str(empty_file(snapshot.path, mart))
    return str(partition_dir(snapshot.path, mart, tenant_id) / "*.parquet")


@lru_cache(maxsize=32)
def _manifest(path: str) -> Mapping[str, Any]:
    # Snapshots are immutable and build ids unique, so a manifest never changes under its path.
    with open(path, "rb") as handle:
        return json.load(handle)
