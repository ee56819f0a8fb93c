"""The lake layout: the one place that knows paths under the lake root.

::

    <root>/raw/<entity>/tenant_id=<id>/date=<YYYY-MM-DD>/<batch_id>.parquet     landed batches
    <root>/raw/<entity>/tenant_id=<id>/date=<YYYY-MM-DD>/compacted-<...>.parquet compaction output
    <root>/current/<entity>/tenant_id=<id>/current.parquet   latest version per key (optional)
    <root>/_batches/tenant_id=<id>/<batch_id[:2]>/<batch_id>.json   batch ledger (idempotency)
    <root>/_trash/<run>/...                     compaction inputs, deleted after a grace period

Readers glob ``*.parquet``: files in progress are dot-prefixed temporaries that never match, and
everything under ``_``-prefixed folders is outside every data glob. The date partition is the
UTC date of ``_ingested_at``. The tenant id lives only in the path, never in row data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

RAW = "raw"
CURRENT = "current"
LEDGER = "_batches"
TRASH = "_trash"
DATA_SUFFIX = ".parquet"
COMPACTED_PREFIX = "compacted-"
CURRENT_FILE = "current.parquet"

_ENTITY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_BATCH_ID = re.compile(r"^[0-9a-f]{32}$")
_TENANT_DIR = re.compile(r"^tenant_id=([1-9][0-9]{0,18})$")
_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
MAX_TENANT_ID = 2**63 - 1


def check_tenant_id(tenant_id: object) -> int:
    """Return ``tenant_id`` if it is a positive int (bools and strings refused), else raise."""
    if type(tenant_id) is not int or not 0 < tenant_id <= MAX_TENANT_ID:
        raise ValueError(f"tenant_id must be a positive int, got {tenant_id!r}")
    return tenant_id


def check_entity(entity: object) -> str:
    """Return ``entity`` if it is a safe folder name (``orders``, ``order_items``), else raise."""
    if not isinstance(entity, str) or not _ENTITY.match(entity):
        raise ValueError(f"invalid lake entity name {entity!r}")
    return entity


def check_batch_id(batch_id: object) -> str:
    """Return ``batch_id`` if it has the :func:`batch_id_for` shape (32 hex digits), else raise."""
    if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
        raise ValueError(f"invalid batch id {batch_id!r}: expected 32 lower-case hex digits")
    return batch_id


def raw_entity_dir(root: Path, entity: str) -> Path:
    """Return ``raw/<entity>``."""
    return Path(root) / RAW / check_entity(entity)


def raw_tenant_dir(root: Path, entity: str, tenant_id: int) -> Path:
    """Return ``raw/<entity>/tenant_id=<id>``."""
    return raw_entity_dir(root, entity) / f"tenant_id={check_tenant_id(tenant_id)}"


def raw_dir(root: Path, entity: str, tenant_id: int, day: date) -> Path:
    """Return the partition folder ``raw/<entity>/tenant_id=<id>/date=<YYYY-MM-DD>``."""
    return raw_tenant_dir(root, entity, tenant_id) / f"date={day.isoformat()}"


def batch_file(root: Path, entity: str, tenant_id: int, day: date, batch_id: str) -> Path:
    """Return where batch ``batch_id`` of ``entity`` lands."""
    return raw_dir(root, entity, tenant_id, day) / f"{check_batch_id(batch_id)}{DATA_SUFFIX}"


def ledger_file(root: Path, tenant_id: int, batch_id: str) -> Path:
    """Return the ledger entry of a batch (sharded by the id's first two hex digits)."""
    check_batch_id(batch_id)
    return (
        Path(root)
        / LEDGER
        / f"tenant_id={check_tenant_id(tenant_id)}"
        / batch_id[:2]
        / f"{batch_id}.json"
    )


def current_dir(root: Path, entity: str, tenant_id: int) -> Path:
    """Return ``current/<entity>/tenant_id=<id>``."""
    return Path(root) / CURRENT / check_entity(entity) / f"tenant_id={check_tenant_id(tenant_id)}"


def current_file(root: Path, entity: str, tenant_id: int) -> Path:
    """Return the current-state file of one tenant's entity."""
    return current_dir(root, entity, tenant_id) / CURRENT_FILE


def trash_root(root: Path) -> Path:
    """Return the folder compaction moves replaced files into."""
    return Path(root) / TRASH


def raw_glob(root: Path, entity: str, tenant_id: int | None = None) -> str:
    """Return the glob of an entity's landed files (all tenants, or one), for DuckDB / dbt.

    Read it with ``hive_partitioning=true`` to get ``tenant_id`` and ``date`` columns.
    """
    tenant = "*" if tenant_id is None else str(check_tenant_id(tenant_id))
    return str(raw_entity_dir(root, entity) / f"tenant_id={tenant}" / "date=*" / f"*{DATA_SUFFIX}")


def current_glob(root: Path, entity: str, tenant_id: int | None = None) -> str:
    """Return the glob of an entity's current-state files (all tenants, or one)."""
    tenant = "*" if tenant_id is None else str(check_tenant_id(tenant_id))
    return str(Path(root) / CURRENT / check_entity(entity) / f"tenant_id={tenant}" / CURRENT_FILE)


def is_data_file(name: str) -> bool:
    """Return whether a file name is a visible data file (not a temporary, not hidden)."""
    return name.endswith(DATA_SUFFIX) and not name.startswith((".", "_"))


def is_compacted(name: str) -> bool:
    """Return whether a data file was written by compaction."""
    return name.startswith(COMPACTED_PREFIX)


def batch_id_of(name: str) -> str | None:
    """Return the batch id a landed file is named after (None for compacted files)."""
    stem = name.removesuffix(DATA_SUFFIX)
    return stem if _BATCH_ID.match(stem) else None


def tenants(root: Path, entity: str) -> list[int]:
    """List the tenants with a raw folder for ``entity``."""
    base = raw_entity_dir(root, entity)
    found = (_TENANT_DIR.match(p.name) for p in base.iterdir()) if base.is_dir() else ()
    return sorted(int(m.group(1)) for m in found if m)


def partitions(root: Path, entity: str, tenant_id: int) -> Iterator[tuple[date, Path]]:
    """Yield (date, folder) for each date partition of a tenant's entity, oldest first."""
    base = raw_tenant_dir(root, entity, tenant_id)
    if not base.is_dir():
        return
    for folder in sorted(base.iterdir()):
        match = _DATE_DIR.match(folder.name)
        if match and folder.is_dir():
            yield date.fromisoformat(match.group(1)), folder


def entities(root: Path) -> list[str]:
    """List the entities that have a raw folder."""
    base = Path(root) / RAW
    return sorted(p.name for p in base.iterdir() if _ENTITY.match(p.name)) if base.is_dir() else []
