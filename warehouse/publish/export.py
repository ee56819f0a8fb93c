"""Export mart tables from the build database as tenant-partitioned, key-sorted Parquet.

Each tenant's rows of a mart go to a folder of their own: one file, or for a mart that names a
``period_column`` one file per calendar month or year (UTC) of that column, so that new orders
rewrite the current period's file and not the tenant's whole history (a read of the partition
opens every file, hence years for the facts the API reads). A mart split by year keeps the
tenant's newest month in a file of its own: builds between two month ends, which add to that
month, rewrite a month of rows instead of the year so far; when a newer month arrives, the
month before joins its year's file (one rewrite of that year per month). Which file holds a row
depends on the rows alone (the tenant's newest month), never on the builds that wrote them.
Each file is sorted by the mart's
key and then by every other column. A total order plus DuckDB's single-file writer makes the
bytes a function of the rows alone, which is what lets an incremental build be compared with a
full refresh file by file. Small row groups keep min/max statistics tight, so a point lookup on
the key reads little.

A file whose rows did not change since the previous snapshot is not written again: it is
hard-linked from there. "Did not change" is decided by a fingerprint per file (row count and two
aggregates of row hashes) that costs a scan, about a twentieth of an export. When the caller
vouches that the previous snapshot holds the mart as it was before this build
(``trusted_invocation``), the scan shrinks or goes: a mart whose build left a marker saying it
changed nothing has every file linked as it is, and one whose build logged the rows it
replaced and inserted has only the files those rows fall in fingerprinted (touched.py), so a
few new orders do not make publish read a fact's whole history.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from warehouse.publish.layout import check_mart_name, empty_file, partition_dir
from warehouse.publish.spans import PERIODS, TENANT_COLUMN, PartFile, quote, spans_sql
from warehouse.publish.touched import Touched, read_marker, touched_files

log = logging.getLogger(__name__)
MART_PREFIXES = ("fct_", "dim_", "mart_")
# Tables a build leaves beside a mart about its latest run (change logs and markers).
BESIDE_MART_SUFFIXES = ("__changes", "__changed")
ROW_GROUP_ROWS = 16_384
# Changed files holding up to this many rows in all are gathered in one scan of their mart.
GATHER_ROWS = 2_000_000


@dataclass(frozen=True)
class MartSpec:
    """One mart to publish: its name, the relation holding it, and its key columns."""

    name: str
    relation: str  # a quoted, fully qualified relation name in the build database
    key: tuple[str, ...] = ()
    period_column: str | None = None  # a date or timestamp column: one file per period of it
    period: str = "month"  # or "year"
    # A one-row relation (changed_keys, invocation_id, change_logged): what the mart's latest
    # run changed, and whether it logged the rows in ``change_log`` (touched.py).
    changed_marker: str | None = None
    change_log: str | None = None


@dataclass
class MartExport:
    """What was written for one mart: its schema, and per tenant its rows and file fingerprints."""

    columns: list[dict[str, str]]
    key: list[str]
    period_column: str | None = None
    period: str = "month"
    tenants: dict[int, int] = field(default_factory=dict)
    fingerprints: dict[int, dict[str, str]] = field(default_factory=dict)
    reused: int = 0  # files linked from the previous snapshot
    unread: bool = False  # linked whole on its change marker's word, without reading the mart
    from_change_log: bool = False  # only the files its change log touched were read

    @property
    def rows(self) -> int:
        return sum(self.tenants.values())

    def as_manifest(self) -> dict[str, Any]:
        """Return the manifest entry for this mart."""
        return {
            "key": self.key,
            "period_column": self.period_column,
            "period": self.period if self.period_column else None,
            "columns": self.columns,
            "format": export_format(),
            "rows": self.rows,
            "tenants": {str(t): n for t, n in sorted(self.tenants.items())},
            "fingerprints": {str(t): dict(sorted(f.items())) for t, f in self.fingerprints.items()},
            "unread": self.unread,
            "from_change_log": self.from_change_log,
        }


@dataclass(frozen=True)
class Previous:
    """The snapshot published before: its folder and manifest, to link unchanged files from."""

    path: Path
    manifest: Mapping[str, Any]


def export_format() -> str:
    """Return what besides the rows decides a file's bytes (a change means no reuse)."""
    return f"duckdb-{duckdb.__version__}/zstd/{ROW_GROUP_ROWS}/files-v3"


def discover_marts(con: duckdb.DuckDBPyConnection) -> list[MartSpec]:
    """Find the mart tables (``fct_``/``dim_``/``mart_``) in the build database.

    The change logs and markers a build leaves beside a mart are not marts.
    """
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "order by table_name, table_schema"
    ).fetchall()
    found: dict[str, MartSpec] = {}
    for schema, table in rows:
        if not table.startswith(MART_PREFIXES) or table.endswith(BESIDE_MART_SUFFIXES):
            continue
        if table in found:
            raise ValueError(f"mart {table!r} exists in more than one schema")
        found[table] = MartSpec(table, f"{quote(schema)}.{quote(table)}")
    return list(found.values())


def export_mart(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    snapshot: Path,
    previous: Previous | None = None,
    trusted_invocation: str | None = None,
) -> MartExport:
    """Write one mart's partitions and its empty schema file under ``snapshot``.

    ``trusted_invocation``: the dbt invocation that built the database right after the one
    ``previous`` was published from; a mart whose marker says that invocation changed nothing
    is linked whole from ``previous``, and one whose change log it wrote is read only where
    the log's rows fall.
    """
    check_mart_name(spec.name)
    described = con.execute(f"describe select * from {spec.relation}").fetchall()
    columns = [{"name": row[0], "type": row[1]} for row in described]
    names = [c["name"] for c in columns]
    if TENANT_COLUMN not in names:
        raise ValueError(f"mart {spec.name!r} has no {TENANT_COLUMN} column")
    missing = [k for k in (*spec.key, *filter(None, [spec.period_column])) if k not in names]
    if missing:
        raise ValueError(f"mart {spec.name!r} key or period columns {missing} do not exist")
    if spec.period not in PERIODS:
        raise ValueError(f"mart {spec.name!r}: period {spec.period!r} is not one of {PERIODS}")
    order = ", ".join(quote(c) for c in _sort_columns(spec.key, names))
    result = MartExport(columns, list(spec.key), spec.period_column, spec.period)
    earlier = _comparable(previous, spec.name, result)
    schema_only = empty_file(snapshot, spec.name)
    schema_only.parent.mkdir(parents=True, exist_ok=True)
    _copy(con, f"select * from {spec.relation} where false", [], schema_only)
    # The mart's marker counts only if the trusted invocation wrote it (this build's run).
    marker = read_marker(con, spec.changed_marker) if earlier and trusted_invocation else None
    if marker is not None and marker.invocation_id != trusted_invocation:
        marker = None
    unchanged = marker is not None and marker.changed_keys == 0
    if unchanged and _link_all(earlier, spec.name, result, snapshot):
        return result
    touched = None
    if marker is not None and marker.change_logged and spec.change_log is not None:
        touched = touched_files(con, spec, _files_of(earlier, spec.name))
    if touched is not None and not _link_untouched(earlier, spec.name, touched, result, snapshot):
        touched = None
    result.from_change_log = touched is not None
    changed: dict[int, list[PartFile]] = {}
    for tenant_id, files in _fingerprints(con, spec, touched).items():
        folder = partition_dir(snapshot, spec.name, tenant_id)
        folder.mkdir(parents=True, exist_ok=True)
        result.tenants[tenant_id] = result.tenants.get(tenant_id, 0) + sum(f.rows for f in files)
        result.fingerprints.setdefault(tenant_id, {}).update({f.name: f.fingerprint for f in files})
        changed[tenant_id] = [
            file
            for file in files
            if not _link_unchanged(earlier, spec.name, tenant_id, file, folder)
        ]
        result.reused += len(files) - len(changed[tenant_id])
    whole = {t for t, files in changed.items() if len(files) == len(result.fingerprints[t])}
    folder_of = partial(partition_dir, snapshot, spec.name)
    _write_changed(con, spec, changed, whole, order, folder_of)
    return result


def _files_of(previous: Previous, mart: str) -> dict[int, dict[str, str]]:
    # Per tenant, the previous snapshot's files of the mart and their fingerprints.
    entry = previous.manifest["marts"][mart]
    return {int(t): dict(files) for t, files in entry["fingerprints"].items()}


def _link_untouched(
    previous: Previous, mart: str, touched: Touched, result: MartExport, snapshot: Path
) -> bool:
    """Link the previous snapshot's files the change log did not touch, with their counts.

    A fingerprint starts with its file's row count. On a link that fails (a file gone, or
    another file system) the mart's folder is removed and False returned: read it all instead.
    """
    try:
        for tenant_id, files in _files_of(previous, mart).items():
            kept = {n: f for n, f in files.items() if touched.untouched(tenant_id, n)}
            if not kept:
                continue
            folder = partition_dir(snapshot, mart, tenant_id)
            folder.mkdir(parents=True)
            for name in kept:
                os.link(partition_dir(previous.path, mart, tenant_id) / name, folder / name)
            result.tenants[tenant_id] = sum(int(f.split(":", 1)[0]) for f in kept.values())
            result.fingerprints[tenant_id] = kept
            result.reused += len(kept)
    except OSError:
        shutil.rmtree(snapshot / mart, ignore_errors=True)
        result.tenants, result.fingerprints, result.reused = {}, {}, 0
        return False
    return True


def _link_all(previous: Previous, mart: str, result: MartExport, snapshot: Path) -> bool:
    # Link every file of the mart from ``previous`` and take its counts and fingerprints.
    result.unread = _link_untouched(previous, mart, Touched(), result, snapshot)
    return result.unread


def export_marts(
    con: duckdb.DuckDBPyConnection,
    specs: Sequence[MartSpec],
    snapshot: Path,
    previous: Previous | None = None,
    trusted_invocation: str | None = None,
    workers: int = min(4, os.cpu_count() or 1),
) -> dict[str, MartExport]:
    """Export every mart in ``specs`` (names must be unique), reusing unchanged partitions.

    Marts are exported ``workers`` at a time, each on a cursor of its own (temporary tables
    are per connection), the biggest first: writing a file leaves a core idle much of the time.
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate mart names in {names}")
    timezone = con.execute("select current_setting('TimeZone')").fetchone()[0]

    def export(spec: MartSpec) -> MartExport:
        started = time.perf_counter()
        with con.cursor() as cursor:
            cursor.execute("set TimeZone = $zone", {"zone": timezone})
            result = export_mart(cursor, spec, snapshot, previous, trusted_invocation)
        log.info(
            "exported mart",
            extra={
                "mart": spec.name,
                "rows": result.rows,
                "reused_files": result.reused,
                "unread": result.unread,
                "from_change_log": result.from_change_log,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        return result

    order = sorted(specs, key=lambda spec: -_previous_rows(previous, spec.name))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        exported = dict(zip([s.name for s in order], pool.map(export, order), strict=True))
    return {name: exported[name] for name in names}


def _previous_rows(previous: Previous | None, mart: str) -> int:
    # How big the mart was last time: a guess at how long it takes.
    entry = previous.manifest.get("marts", {}).get(mart) if previous else None
    return int(entry["rows"]) if entry else 0


def _comparable(previous: Previous | None, mart: str, current: MartExport) -> Previous | None:
    # Reuse only files written with the same columns, sort key, file split and writer.
    entry = previous.manifest.get("marts", {}).get(mart) if previous else None
    if entry is None:
        return None
    current_entry = current.as_manifest()
    fields = ("columns", "key", "period_column", "period", "format")
    shape = tuple(entry.get(name) for name in fields)
    wanted = tuple(current_entry[name] for name in fields)
    return previous if shape == wanted else None


def _link_unchanged(
    previous: Previous | None, mart: str, tenant_id: int, file: PartFile, folder: Path
) -> bool:
    # Link the file from ``previous`` if its rows are the same there.
    if previous is None:
        return False
    entry = previous.manifest["marts"][mart]
    if entry.get("fingerprints", {}).get(str(tenant_id), {}).get(file.name) != file.fingerprint:
        return False
    try:
        os.link(partition_dir(previous.path, mart, tenant_id) / file.name, folder / file.name)
    except OSError:  # gone, or another file system: write it instead
        return False
    return True


def _sort_columns(key: Sequence[str], names: Sequence[str]) -> list[str]:
    # Key first for pruning, then every other column so ties cannot reorder between builds.
    return [*key, *(n for n in names if n not in key)]


def _fingerprints(
    con: duckdb.DuckDBPyConnection, spec: MartSpec, touched: Touched | None = None
) -> dict[int, list[PartFile]]:
    # Per tenant and file: the count, and the sum and xor of 64-bit row hashes (an accidental
    # match is out of reach). ``touched``: only the files a change log touched, else all.
    newest = touched.newest if touched else None
    start, until, kind, join = spans_sql(spec.relation, spec.period_column, spec.period, newest)
    where, params = "true", {}
    if touched is not None:
        where, params = touched.filter_sql(con, start, spec.period_column)
    rows = con.execute(
        f"select t.{quote(TENANT_COLUMN)}, {start}, {until}, {kind}, count(*), "
        f"sum(hash(t)::hugeint), bit_xor(hash(t)) from {spec.relation} as t {join} "
        f"where {where} group by all order by 1, 2",
        params,
    ).fetchall()
    if any(tenant is None for tenant, *_ in rows):
        raise ValueError(f"mart {spec.name!r} has rows without a {TENANT_COLUMN}")
    found: dict[int, list[PartFile]] = {}
    split = spec.period_column is not None
    for tenant, begin, end, span, n, total, xor in rows:
        file = PartFile(begin, end, int(n), f"{n}:{total}:{xor}", span if split else None)
        found.setdefault(int(tenant), []).append(file)
    return found


def _write_changed(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    changed: Mapping[int, Sequence[PartFile]],
    whole: set[int],
    order: str,
    folder_of: Callable[[int], Path],
) -> None:
    """Write the ``changed`` files of each tenant, gathering their rows first.

    Each file reads its rows from a temporary table rather than the mart: one scan of the mart
    gathers the changed files' rows of as many tenants as fit in ``GATHER_ROWS`` (all of them in
    an incremental build of a fact: this period's files), one scan per tenant when a tenant's
    rows are more (a full refresh of a fact). A file then reads only its stretch of the
    gathered rows, ordered by tenant and period. ``whole``: tenants all of whose files changed,
    gathered without matching rows to files.
    """
    changed = {tenant_id: files for tenant_id, files in changed.items() if files}
    if not changed:
        return
    for batch in _batches(changed, GATHER_ROWS):
        _gather(con, spec, batch, whole=len(batch) == 1 and set(batch) <= whole)
        try:
            for tenant_id, files in batch.items():
                for file in files:
                    rows, start = _rows_of(spec, file)
                    query = _optional_columns(
                        f"select * from publish_rows where {quote(TENANT_COLUMN)} = $tenant "
                        f"and {rows}",
                        order,
                    )
                    _copy(
                        con, query, {"tenant": tenant_id, **start}, folder_of(tenant_id) / file.name
                    )
        finally:
            con.execute("drop table if exists publish_rows")
            con.execute("drop table if exists publish_files")


def _batches(
    changed: Mapping[int, Sequence[PartFile]], limit: int
) -> list[dict[int, Sequence[PartFile]]]:
    """Group tenants, in order, into batches whose changed files hold up to ``limit`` rows.

    A tenant bigger than that is a batch of its own. Each batch costs one scan of the mart, so
    a mart a little over the limit takes two scans, not one per tenant.
    """
    batches: list[dict[int, Sequence[PartFile]]] = []
    current: dict[int, Sequence[PartFile]] = {}
    rows = 0
    for tenant_id, files in changed.items():
        size = sum(file.rows for file in files)
        if current and rows + size > limit:
            batches.append(current)
            current, rows = {}, 0
        current[tenant_id] = files
        rows += size
    if current:
        batches.append(current)
    return batches


def _gather(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    files: Mapping[int, Sequence[PartFile]],
    whole: bool,
) -> None:
    # The rows of ``files`` into temp table publish_rows, ordered by tenant and period so each
    # file's rows lie together. ``whole``: one tenant all of whose files changed, all its rows.
    column = spec.period_column
    order = quote(TENANT_COLUMN) + (f", {quote(column)}" if column else "")
    if whole:
        (tenant_id,) = files
        con.execute(
            f"create or replace temp table publish_rows as select * from {spec.relation} "
            f"where {quote(TENANT_COLUMN)} = $tenant order by {order}",
            {"tenant": tenant_id},
        )
        return
    con.execute(
        "create or replace temp table publish_files "
        "(tenant_id bigint, start timestamptz, until timestamptz)"
    )
    con.executemany(
        "insert into publish_files values (?, ?, ?)",
        [
            (tenant_id, file.start, file.until)
            for tenant_id, batch in files.items()
            for file in batch
        ],
    )
    in_file, since, params = "true", "true", {}
    if column:
        value = f"t.{quote(column)}"
        in_file = (
            f"(({value} >= f.start and {value} < f.until) or (f.start is null and {value} is null))"
        )
        starts = [file.start for batch in files.values() for file in batch]
        if None not in starts:
            # A plain bound first: rows older than every changed file never reach the range
            # join (new rows are recent; it halves the gather of a fact's current month).
            since, params = f"{value} >= $since", {"since": min(starts)}
    con.execute(
        f"create or replace temp table publish_rows as select * from {spec.relation} as t "
        f"where {since} and exists (select 1 from publish_files as f where f.tenant_id = "
        f"t.{quote(TENANT_COLUMN)} and {in_file}) order by {order}",
        params,
    )


def _rows_of(spec: MartSpec, file: PartFile) -> tuple[str, dict[str, date]]:
    # The condition that selects a file's rows, and its parameters: a range on the period
    # column, which row-group statistics can skip by (new rows sit together at a table's end).
    if spec.period_column is None:
        return "true", {}
    column = quote(spec.period_column)
    if file.start is None:
        return f"{column} is null", {}
    return f"{column} >= $start and {column} < $until", {"start": file.start, "until": file.until}


def _optional_columns(query: str, order: str) -> str:
    """Return ``query`` sorted by ``order``, read so that every column is nullable.

    DuckDB writes a Parquet column as REQUIRED rather than OPTIONAL when the statistics of what
    it reads say the column holds no null, and a table's statistics also remember the nulls of
    rows deleted since: an incremental build's tables hold such rows, a full refresh's do not.
    Read as the outer side of a join, every column may be null, so every file's columns are
    OPTIONAL whatever the tables' history, and the bytes stay a function of the rows.
    """
    return (
        f"select file_rows.* from (select 1 as publish_one) as one "
        f"left join ({query}) as file_rows on true order by {order}"
    )


def _copy(
    con: duckdb.DuckDBPyConnection, query: str, params: Mapping[str, Any] | list, target: Path
) -> None:
    # Row counts come from the fingerprints, so the count COPY reports is not needed.
    path = str(target).replace("'", "''")
    options = f"format parquet, compression zstd, row_group_size {ROW_GROUP_ROWS}"
    con.execute(f"copy ({query}) to '{path}' ({options})", params)
