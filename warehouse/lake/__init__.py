"""The raw zone: tenant-partitioned, immutable, zstd Parquet batches (ARCHITECTURE invariants 2-4).

Public API::

    from warehouse.lake import batch_id_for, land_batch, list_files, read_table, compact

    batch_id = batch_id_for(tenant_id, idempotency_key, chunk_index)   # 32 hex digits
    landed = land_batch(lake_root, tenant_id, batch_id, tables, source="api")
    # tables: {"orders": pa.Table, "order_items": pa.Table} from warehouse.contracts
    # landed: LandedBatch(batch_id, tenant_id, ingested_at, paths, rows, already_landed)

* ``land_batch(lake_root, tenant_id, batch_id, tables, *, source, op="upsert")`` lands every
  entity of one batch and returns only when all files and the ledger entry are durable (the
  moment to acknowledge). Adds ``_batch_id, _ingested_at, _seq, _op, _source``. Idempotent: a
  repeated call (same tenant and batch id) writes nothing and returns the stored result with
  ``already_landed=True`` - also after compaction and on a later day. ``tenant_id`` must be the
  authenticated tenant (an int); row data may not carry ``tenant_id`` or ``_`` columns.
  ``op="delete"`` lands key-only rows from ``Contract.delete_tables(ids)``.
* ``list_files(root, entity, tenant_id)`` / ``read_table(root, entity, tenant_id, columns=)``:
  one tenant's landed rows, each exactly once, safe while compaction runs. ``relation(conn,
  root, entity, tenant_id)`` gives the same files as a DuckDB relation. ``read_current`` reads
  the compacted current state (latest version per key, deletes applied).
* ``compact(root, entities=None, tenant_ids=None, min_files=2, current_entities=None,
  keep_newer_than=None)``: merge small files per partition by size tier, sorted by business key,
  leaving files landed after ``keep_newer_than`` apart; see :mod:`warehouse.lake.compaction` for the
  exact guarantee to concurrent readers. Raises ``LakeBusy`` if already running.
* Layout (``warehouse.lake.layout``): ``raw_dir``, ``batch_file``, ``raw_glob`` /
  ``current_glob`` (for DuckDB and dbt sources, ``hive_partitioning=true``), ``current_file``.
"""

from warehouse.lake.compaction import CompactionReport, compact
from warehouse.lake.layout import (
    current_file,
    current_glob,
    raw_dir,
    raw_glob,
)
from warehouse.lake.lock import LakeBusy
from warehouse.lake.reader import LakeReadError, list_files, read_current, read_table, relation
from warehouse.lake.writer import (
    METADATA_COLUMNS,
    BatchConflict,
    LandedBatch,
    batch_id_for,
    land_batch,
)

__all__ = [
    "METADATA_COLUMNS",
    "BatchConflict",
    "CompactionReport",
    "LakeBusy",
    "LakeReadError",
    "LandedBatch",
    "batch_id_for",
    "compact",
    "current_file",
    "current_glob",
    "land_batch",
    "list_files",
    "raw_dir",
    "raw_glob",
    "read_current",
    "read_table",
    "relation",
]
