"""Read the raw zone with polars and reduce it to current versions, as the contracts define."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl

from warehouse.controlplane.tenant_settings import effective_settings

VERSION_ORDER = ["_ingested_at", "_batch_id", "_seq"]
THRESHOLDS = {
    "high_value_order_minor", "vip_lifetime_value_minor", "new_customer_days",
    "inactive_customer_days", "price_anomaly_threshold_pct", "low_stock_default",
    "rfm_window_days",
}  # fmt: skip


def landed(lake: Path, entity: str) -> pl.DataFrame:
    """Return every landed row of an entity (all tenants), timestamps as naive UTC."""
    files = sorted((lake / "raw" / entity).glob("tenant_id=*/date=*/*.parquet"))
    if not files:
        return pl.DataFrame()
    frame = pl.concat(
        [pl.read_parquet(f, hive_partitioning=True) for f in files], how="diagonal_relaxed"
    )
    return frame.with_columns(
        pl.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def lake_as_of(lake: Path, out: Path, up_to: datetime) -> Path:
    """Copy the batch files landed at or before ``up_to`` (naive UTC) into ``out``: the lake as
    a build bounded by that raw watermark must see it."""
    for path in sorted((lake / "raw").glob("*/tenant_id=*/date=*/*.parquet")):
        landed_at = pl.read_parquet(path, columns=["_ingested_at"]).get_column("_ingested_at")
        if landed_at.max().replace(tzinfo=None) <= up_to:
            target = out / path.relative_to(lake)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return out


def newest_landing(lake: Path) -> datetime:
    """Return the newest _ingested_at in the lake (naive UTC)."""
    files = (lake / "raw").glob("*/tenant_id=*/date=*/*.parquet")
    return max(
        pl.read_parquet(f, columns=["_ingested_at"]).get_column("_ingested_at").max() for f in files
    ).replace(tzinfo=None)


def latest(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Return the latest version of each key (deletes included)."""
    return frame.sort(VERSION_ORDER).group_by(["tenant_id", *key], maintain_order=True).last()


def current(lake: Path, entity: str, key: str = "id") -> pl.DataFrame:
    """Return the current rows of an entity: latest version per key, deleted keys dropped."""
    frame = landed(lake, entity)
    if frame.is_empty():
        return frame
    return latest(frame, [key]).filter(pl.col("_op") == "upsert")


def current_lines(lake: Path) -> pl.DataFrame:
    """Return the lines landed in the same batch as each current order (later copy wins)."""
    orders = current(lake, "orders").select(
        "tenant_id", pl.col("id").alias("order_id"), "_batch_id"
    )
    lines = landed(lake, "order_items").join(orders, on=["tenant_id", "order_id", "_batch_id"])
    return latest(lines, ["order_id", "line_number"])


def tenants(path: Path) -> pl.DataFrame:
    """Return the tenants export with every threshold resolved by the control plane's rules."""
    rows = []
    for row in pl.read_parquet(path).iter_rows(named=True):
        stored = json.loads(row["settings"]) if row["settings"] else {}
        rows.append({**row, **effective_settings(stored).model_dump(include=THRESHOLDS)})
    return pl.DataFrame(rows)
