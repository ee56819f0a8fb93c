"""Validate changes against their contract and land the survivors as one batch per op.

Batch ids derive from (tenant, ``crud:<scope>:<key>``, chunk): the upserts of a request are
chunk 0 and its deletes chunk 1, so a retry with the same Idempotency-Key finds its batches in
the ledger instead of landing twice, and a CRUD key never collides with a bulk-ingest key.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.contracts import CONTRACTS, LAKE_ENTITIES, validate_records
from warehouse.entities import reader
from warehouse.entities.changes import Change
from warehouse.entities.sources import Store, all_raw_files
from warehouse.entities.specs import SPECS
from warehouse.lake import batch_id_for, land_batch, ledger

UPSERTS, DELETES = 0, 1
SOURCE = "crud"


@dataclass(frozen=True)
class Batches:
    """The batch ids one write request lands under."""

    upserts: str
    deletes: str

    @classmethod
    def of(cls, tenant_id: int, scope: str, key: str | None) -> Batches:
        """Return the batch ids for a request (a random key when the client gave none)."""
        material = f"crud:{scope}:{key if key is not None else uuid.uuid4().hex}"
        return cls(
            batch_id_for(tenant_id, material, UPSERTS), batch_id_for(tenant_id, material, DELETES)
        )


def validate(
    contract: str, changes: Sequence[Change], records: Sequence[dict[str, Any]]
) -> dict[str, pa.Table]:
    """Validate one record per change; mark failures (422) and return the valid rows' tables."""
    tables, errors = validate_records(contract, list(records))
    for error in errors:
        changes[error.row - 1].fail(422, error.field, error.reason)
    return tables


def keep(tables: Mapping[str, pa.Table], ids: set[str]) -> dict[str, pa.Table]:
    """Return the tables restricted to rows of records in ``ids`` (children by their parent)."""
    kept = {}
    for name, table in tables.items():
        parent = LAKE_ENTITIES[name].parent
        column = parent[1] if parent else "id"
        mask = pc.is_in(table.column(column), pa.array(sorted(ids), pa.string()))
        kept[name] = table.filter(mask)
    return kept


def land_upserts(store: Store, batch_id: str, tables: Mapping[str, pa.Table]) -> None:
    """Land validated tables (nothing if they hold no row)."""
    if any(table.num_rows for table in tables.values()):
        land_batch(store.lake_root, store.tenant_id, batch_id, tables, source=SOURCE)


def land_deletes(store: Store, batch_id: str, contract: str, ids: Sequence[str]) -> None:
    """Land delete records for ``ids`` (nothing if empty)."""
    if ids:
        tables = CONTRACTS[contract].delete_tables(list(ids))
        land_batch(store.lake_root, store.tenant_id, batch_id, tables, source=SOURCE, op="delete")


def landed(store: Store, batches: Batches) -> bool:
    """Tell whether an earlier attempt of this request already landed a batch."""
    return any(
        ledger.state(store.lake_root, store.tenant_id, batch_id) == "committed"
        for batch_id in (batches.upserts, batches.deletes)
    )


def landed_ids(store: Store, entity: str, batches: Batches) -> set[str]:
    """Return the ids an earlier attempt landed in this request's batches."""
    files = all_raw_files(store, SPECS[entity])
    if not files:
        return set()
    rows = reader.run(
        "select distinct id from read_parquet($files, union_by_name = true, "
        "hive_partitioning = false) where _batch_id in ($upserts, $deletes)",
        {"files": files, "upserts": batches.upserts, "deletes": batches.deletes},
    )
    return {row["id"] for row in rows}
