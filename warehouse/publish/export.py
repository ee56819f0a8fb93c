"""Export mart tables from the build database as tenant-partitioned, key-sorted Parquet.

Each tenant's rows of a mart go to one file of their own, sorted by the mart's key and then by
every other column. A total order plus DuckDB's single-file writer makes the bytes a function of
the rows alone, which is what lets an incremental build be compared with a full refresh file by
file. Small row groups keep min/max statistics tight, so a point lookup on the key reads little.

A tenant partition whose rows did not change since the previous snapshot is not written again:
its file is hard-linked from there. "Did not change" is decided by a fingerprint (row count and
two aggregates of row hashes) that costs a scan, about a twentieth of an export.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.publish.layout import PART_FILE, check_mart_name, empty_file, partition_dir

MART_PREFIXES = ("fct_", "dim_", "mart_")
ROW_GROUP_ROWS = 16_384
TENANT_COLUMN = "tenant_id"


@dataclass(frozen=True)
class MartSpec:
    """One mart to publish: its name, the relation holding it, and its key columns."""

    name: str
    relation: str  # a quoted, fully qualified relation name in the build database
    key: tuple[str, ...] = ()


@dataclass
class MartExport:
    """What was written for one mart: its schema, rows and fingerprint per tenant."""

    columns: list[dict[str, str]]
    key: list[str]
    tenants: dict[int, int] = field(default_factory=dict)
    fingerprints: dict[int, str] = field(default_factory=dict)
    reused: int = 0  # partitions linked from the previous snapshot

    @property
    def rows(self) -> int:
        return sum(self.tenants.values())

    def as_manifest(self) -> dict[str, Any]:
        """Return the manifest entry for this mart."""
        return {
            "key": self.key,
            "columns": self.columns,
            "format": export_format(),
            "rows": self.rows,
            "tenants": {str(t): n for t, n in sorted(self.tenants.items())},
            "fingerprints": {str(t): f for t, f in sorted(self.fingerprints.items())},
        }


@dataclass(frozen=True)
class Previous:
    """The snapshot published before: its folder and manifest, to link unchanged files from."""

    path: Path
    manifest: Mapping[str, Any]


def export_format() -> str:
    """Return what besides the rows decides a file's bytes (a change means no reuse)."""
    return f"duckdb-{duckdb.__version__}/zstd/{ROW_GROUP_ROWS}"


def quote(identifier: str) -> str:
    """Quote an SQL identifier for DuckDB."""
    return '"' + identifier.replace('"', '""') + '"'


def discover_marts(con: duckdb.DuckDBPyConnection) -> list[MartSpec]:
    """Find the mart tables (``fct_``/``dim_``/``mart_``) in the build database."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "order by table_name, table_schema"
    ).fetchall()
    found: dict[str, MartSpec] = {}
    for schema, table in rows:
        if not table.startswith(MART_PREFIXES):
            continue
        if table in found:
            raise ValueError(f"mart {table!r} exists in more than one schema")
        found[table] = MartSpec(table, f"{quote(schema)}.{quote(table)}")
    return list(found.values())


def export_mart(
    con: duckdb.DuckDBPyConnection, spec: MartSpec, snapshot: Path, previous: Previous | None = None
) -> MartExport:
    """Write one mart's partitions and its empty schema file under ``snapshot``."""
    check_mart_name(spec.name)
    described = con.execute(f"describe select * from {spec.relation}").fetchall()
    columns = [{"name": row[0], "type": row[1]} for row in described]
    names = [c["name"] for c in columns]
    if TENANT_COLUMN not in names:
        raise ValueError(f"mart {spec.name!r} has no {TENANT_COLUMN} column")
    missing = [k for k in spec.key if k not in names]
    if missing:
        raise ValueError(f"mart {spec.name!r} key columns {missing} do not exist")
    order = ", ".join(quote(c) for c in _sort_columns(spec.key, names))
    result = MartExport(columns=columns, key=list(spec.key))
    earlier = _comparable(previous, spec.name, result)
    for tenant_id, (rows, fingerprint) in _fingerprints(con, spec).items():
        target = partition_dir(snapshot, spec.name, tenant_id) / PART_FILE
        target.parent.mkdir(parents=True)
        result.fingerprints[tenant_id] = fingerprint
        if earlier and _link_unchanged(earlier, spec.name, tenant_id, fingerprint, target):
            result.tenants[tenant_id] = rows
            result.reused += 1
            continue
        query = f"select * from {spec.relation} where {TENANT_COLUMN} = $1 order by {order}"
        result.tenants[tenant_id] = _copy(con, query, [tenant_id], target)
    schema_only = empty_file(snapshot, spec.name)
    schema_only.parent.mkdir(parents=True, exist_ok=True)
    _copy(con, f"select * from {spec.relation} where false", [], schema_only)
    return result


def export_marts(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[MartSpec],
    snapshot: Path,
    previous: Previous | None = None,
) -> dict[str, MartExport]:
    """Export every mart in ``specs`` (names must be unique), reusing unchanged partitions."""
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate mart names in {names}")
    return {spec.name: export_mart(con, spec, snapshot, previous) for spec in specs}


def _comparable(previous: Previous | None, mart: str, current: MartExport) -> Previous | None:
    # Reuse only files written with the same columns, sort key and writer.
    entry = previous.manifest.get("marts", {}).get(mart) if previous else None
    if entry is None:
        return None
    shape = (entry["columns"], entry["key"], entry.get("format"))
    return previous if shape == (current.columns, current.key, export_format()) else None


def _link_unchanged(
    previous: Previous, mart: str, tenant_id: int, fingerprint: str, target: Path
) -> bool:
    entry = previous.manifest["marts"][mart]
    if entry.get("fingerprints", {}).get(str(tenant_id)) != fingerprint:
        return False
    try:
        os.link(partition_dir(previous.path, mart, tenant_id) / PART_FILE, target)
    except OSError:  # gone, or another file system: write it instead
        return False
    return True


def _sort_columns(key: Sequence[str], names: Sequence[str]) -> list[str]:
    # Key first for pruning, then every other column so ties cannot reorder between builds.
    return [*key, *(n for n in names if n not in key)]


def _fingerprints(con: duckdb.DuckDBPyConnection, spec: MartSpec) -> dict[int, tuple[int, str]]:
    # Sum and xor of 64-bit row hashes plus the count: an accidental match is out of reach.
    rows = con.execute(
        f"select {quote(TENANT_COLUMN)}, count(*), sum(hash(t)::hugeint), bit_xor(hash(t)) "
        f"from {spec.relation} as t group by 1 order by 1"
    ).fetchall()
    if any(tenant is None for tenant, *_ in rows):
        raise ValueError(f"mart {spec.name!r} has rows without a {TENANT_COLUMN}")
    return {int(t): (int(n), f"{n}:{total}:{xor}") for t, n, total, xor in rows}


def _copy(con: duckdb.DuckDBPyConnection, query: str, params: list, target: Path) -> int:
    path = str(target).replace("'", "''")
    options = f"format parquet, compression zstd, row_group_size {ROW_GROUP_ROWS}"
    (count,) = con.execute(f"copy ({query}) to '{path}' ({options})", params).fetchone()
    return int(count)
