"""Read an order's amount and currency from the lake: its latest version, unless deleted.

Payments take the amount from the order the merchant sent, never from the payment request.
The raw zone is read rather than the compacted current state, so an order landed a moment ago
can be paid at once; DuckDB pushes the id filter down to Parquet statistics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.lake import duck, list_files
from warehouse.payments.errors import NotFound

ATTEMPTS = 5
_LATEST = (
    "select id, status, currency, total_minor, _op "
    "from read_parquet($files, union_by_name = true) where id = $id "
    "order by _ingested_at desc, _batch_id desc, _seq desc limit 1"
)


@dataclass(frozen=True)
class OrderAmount:
    """What a payment of the order asks for."""

    order_id: str
    status: str
    currency: str
    total_minor: int


def latest_order(lake_root: Path, tenant_id: int, order_id: str) -> OrderAmount:
    """Return the order's current amount and status, or raise NotFound."""
    row = _latest_row(lake_root, tenant_id, order_id)
    if row is None or row[4] == "delete":
        raise NotFound("order_id", "no such order")
    return OrderAmount(row[0], row[1], row[2], int(row[3]))


def _latest_row(lake_root: Path, tenant_id: int, order_id: str) -> tuple | None:
    for attempt in range(ATTEMPTS):
        files = [str(path) for path in list_files(lake_root, "orders", tenant_id)]
        if not files:
            return None
        try:
            with duck.connect(lake_root, memory_limit="256MB", threads=1) as conn:
                return conn.execute(_LATEST, {"files": files, "id": order_id}).fetchone()
        except duckdb.IOException:
            # Compaction moved a listed file away between listing and reading: list again.
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError(f"orders of tenant {tenant_id} kept changing while read")
