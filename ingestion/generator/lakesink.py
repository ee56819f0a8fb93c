"""Land generated batches in the raw zone through the same path HTTP ingestion takes.

Each batch is encoded to NDJSON, validated by the record contracts (which type the columns and
split orders into `orders` and `order_items`) and landed by the lake writer with
``source="generator"``. Batch ids derive from (tenant, a key naming the run, chunk index), so
running the same generation again lands nothing twice. Rows damaged on purpose are refused by
the contracts and counted, exactly as ingestion would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from ingestion.generator.invalid import damage_rows
from ingestion.generator.ndjson import encode_batch, fragments, lines
from ingestion.generator.presets import TenantDef
from ingestion.generator.seeding import rng
from warehouse.contracts import validate_records
from warehouse.lake import batch_id_for, land_batch

CONTRACT_OF = {
    "products": "product", "customers": "customer", "orders": "order", "events": "event",
    "stock_events": "stock_event", "price_events": "price_event", "refunds": "refund",
    "customer_notes": "customer_note",
}  # fmt: skip
SOURCE = "generator"


class GeneratedRowRefused(RuntimeError):
    """The contracts refused a row the generator meant to be valid (a generator bug)."""


class LakeSink:
    """Validate and land each batch as one lake batch of the tenant."""

    def __init__(self, lake_root: Path, tenant_ids: Mapping[str, int], run_key: str,
                 invalid_ratio: float = 0.0, seed: int = 0):  # fmt: skip
        self.root, self.tenant_ids, self.run_key = Path(lake_root), dict(tenant_ids), run_key
        self.invalid_ratio, self.seed = invalid_ratio, seed
        self._counts: dict[str, dict] = {}

    def write(self, tenant: TenantDef, entity: str, batch: pa.RecordBatch) -> dict[str, int]:
        """Land one batch; return counts of rows damaged on purpose, by kind."""
        if not batch.num_rows:
            return {}
        tenant_id = self.tenant_ids[tenant.slug]
        stats = self._stats(tenant, entity, tenant_id)
        index = stats["batches"]
        data, damaged = self._encode(tenant, entity, batch, index)
        tables, errors = validate_records(CONTRACT_OF[entity], bytes(data))
        refused = len({e.row for e in errors})
        if refused != sum(damaged.values()):
            raise GeneratedRowRefused(f"{tenant.slug}/{entity}: {errors[:3]}")
        if refused < batch.num_rows:
            batch_id = batch_id_for(tenant_id, f"{self.run_key}:{entity}", index)
            land_batch(self.root, tenant_id, batch_id, tables, source=SOURCE)
        stats["batches"] += 1
        stats["rows"] += batch.num_rows - refused
        stats["invalid"] += refused
        return damaged

    def _encode(self, tenant, entity, batch, index) -> tuple[memoryview, dict[str, int]]:
        if self.invalid_ratio <= 0:
            return encode_batch(batch), {}
        g = rng(self.seed, tenant.slug, entity, "invalid", index)
        parts, damaged = damage_rows(entity, batch, fragments(batch), self.invalid_ratio, g)
        return lines(parts), damaged

    def _stats(self, tenant: TenantDef, entity: str, tenant_id: int) -> dict:
        key = f"{tenant.slug}/{entity}"
        if key not in self._counts:
            self._counts[key] = {"tenant": tenant.slug, "tenant_id": tenant_id, "entity": entity,
                                 "batches": 0, "rows": 0, "invalid": 0}  # fmt: skip
        return self._counts[key]

    def finish_tenant(self, tenant: TenantDef) -> None:
        """Nothing to do: every batch is durable when ``land_batch`` returns."""

    def files(self) -> list[dict]:
        """Return per tenant and entity the batches landed, rows landed and rows refused."""
        return list(self._counts.values())
