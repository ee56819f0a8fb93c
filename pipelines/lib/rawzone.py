"""What the pipelines need to know about the raw zone: how new it is, and what it holds.

Files are listed through :func:`warehouse.lake.reader.list_files`, which reads each row once
even while compaction is rewriting a partition. The newest ``_ingested_at`` lives in the newest
date partition (partitions are the UTC date of ``_ingested_at``), so only those are read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.lake.layout import entities, partitions, tenants
from warehouse.lake.reader import list_files
from warehouse.publish import Snapshot

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ATTEMPTS = 5
# Facts with one row per live raw record: mart -> (raw entity, business key).
ONE_ROW_PER_RECORD = {"fct_orders": ("orders", ("id",)), "fct_refunds": ("refunds", ("id",))}


def newest_files(lake_root: Path) -> list[Path]:
    """Return the visible files of the newest date partition of every entity and tenant."""
    files: list[Path] = []
    for entity in entities(lake_root):
        for tenant_id in tenants(lake_root, entity):
            days = [day for day, _folder in partitions(lake_root, entity, tenant_id)]
            if days:
                files += list_files(lake_root, entity, tenant_id, dates=[days[-1]])
    return files


def raw_watermark(lake_root: Path) -> datetime | None:
    """Return the newest ``_ingested_at`` in the raw zone (None when it is empty)."""
    for _ in range(_ATTEMPTS):
        try:
            return _newest(newest_files(lake_root))
        except FileNotFoundError:  # compaction moved a file between listing and reading
            continue
    raise RuntimeError("the raw zone kept changing while its watermark was read")


def _newest(files: list[Path]) -> datetime | None:
    found = [value for path in files if (value := newest_in_file(path)) is not None]
    return max(found) if found else None


def newest_in_file(path: Path) -> datetime | None:
    """Return a file's newest ``_ingested_at``, from its row groups' statistics when it has them.

    The newest partition holds the day's compacted files (hundreds of MB at scale): reading
    their footers instead of the column keeps this step from growing with the day's volume.
    """
    metadata = pq.ParquetFile(path).metadata
    names = metadata.schema.names
    if "_ingested_at" not in names:
        return None
    column = names.index("_ingested_at")
    maxima = []
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(column).statistics
        if statistics is None or not statistics.has_min_max:
            return _read_newest(path)
        maxima.append(statistics.max)
    return _as_utc(max(maxima)) if maxima else None


def _read_newest(path: Path) -> datetime | None:
    column = pq.read_table(path, columns=["_ingested_at"]).column(0)
    return _as_utc(pc.max(column).as_py()) if len(column) else None


def _as_utc(value: datetime | None) -> datetime | None:
    # The lake stores UTC instants; a value read without its zone is one.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def live_keys(
    lake_root: Path, entity: str, key: tuple[str, ...], watermark: datetime
) -> dict[int, int]:
    """Count, per tenant, the keys whose latest version at or before ``watermark`` is not a delete.

    Most keys were never deleted: a distinct count finds them, and only keys with a delete among
    their versions are ranked. Ranking every key's versions took 2-4x as long (orders at 0.05:
    0.98 s one tenant at a time, 0.41 s ranked in one query, 0.21 s this way).
    """
    files = [str(p) for t in tenants(lake_root, entity) for p in list_files(lake_root, entity, t)]
    if not files:
        return {}
    keys = ", ".join(f'"{c}"' for c in key)
    # Latest version = highest (_ingested_at, _batch_id, _seq), as staging defines it; the
    # tenant comes from the file's partition folder (tenant_id=N).
    sql = f"""
        with versions as (
            select tenant_id, {keys}, _op, _ingested_at, _batch_id, _seq
            from read_parquet($files, union_by_name = true, hive_partitioning = true)
            where epoch_us(_ingested_at) <= $cutoff
        ),
        ever_deleted as (
            select distinct tenant_id, {keys} from versions where _op = 'delete'
        ),
        deleted_now as (
            select tenant_id, count(*) as keys
            from (
                select tenant_id
                from versions
                semi join ever_deleted using (tenant_id, {keys})
                group by tenant_id, {keys}
                having arg_max(_op, (_ingested_at, _batch_id, _seq)) = 'delete'
            )
            group by tenant_id
        ),
        seen as (
            select tenant_id, count(distinct ({keys})) as keys from versions group by tenant_id
        )
        select seen.tenant_id, seen.keys - coalesce(deleted_now.keys, 0)
        from seen
        left join deleted_now on seen.tenant_id = deleted_now.tenant_id
    """
    cutoff = (watermark - _EPOCH) // timedelta(microseconds=1)
    with duckdb.connect() as con:
        rows = con.execute(sql, {"files": files, "cutoff": cutoff}).fetchall()
    return {int(tenant_id): int(count) for tenant_id, count in rows}


def row_count_mismatches(snapshot: Snapshot, lake_root: Path) -> list[dict]:
    """Return (mart, tenant, published, raw) wherever a fact disagrees with the raw zone."""
    found = []
    for mart, (entity, key) in sorted(ONE_ROW_PER_RECORD.items()):
        if mart not in snapshot.marts:
            found.append({"mart": mart, "error": "not in the snapshot"})
            continue
        published = {int(t) for t in snapshot.manifest["marts"][mart]["tenants"]}
        live = {}
        if snapshot.watermark is not None:
            live = live_keys(lake_root, entity, key, snapshot.watermark)
        # A tenant with neither published rows nor live keys agrees (0 = 0).
        for tenant_id in sorted(published | set(live)):
            expected = live.get(tenant_id, 0)
            actual = snapshot.rows(mart, tenant_id)
            if actual != expected:
                found.append(
                    {"mart": mart, "tenant_id": tenant_id, "published": actual, "raw": expected}
                )
    return found
