"""What the pipelines read from the raw zone: its newest landing and its live records."""

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.rawzone import live_keys, newest_in_file, raw_watermark, row_count_mismatches
from warehouse.lake.writer import batch_id_for, land_batch

T0 = datetime(2026, 10, 30, 23, 59, tzinfo=UTC)


def land(root, tenant_id: int, key: str, ids: list[str], at: datetime, op: str = "upsert"):
    table = pa.table({"id": ids} if op == "delete" else {"id": ids, "status": ["paid"] * len(ids)})
    land_batch(root, tenant_id, batch_id_for(tenant_id, key, 0), {"orders": table},
               source="api", op=op, clock=lambda: at)  # fmt: skip


def test_empty_lake_has_no_watermark(tmp_path):
    assert raw_watermark(tmp_path) is None
    assert live_keys(tmp_path, "orders", ("id",), T0) == {}


def test_watermark_is_the_newest_landing_across_days_and_tenants(tmp_path):
    land(tmp_path, 1, "a", ["o1", "o2"], T0)
    land(tmp_path, 2, "b", ["o1"], T0 + timedelta(minutes=2))  # the next UTC day
    land(tmp_path, 1, "c", ["o3"], T0 + timedelta(minutes=1))
    assert raw_watermark(tmp_path) == T0 + timedelta(minutes=2)


def test_live_keys_apply_versions_and_deletes_up_to_the_watermark(tmp_path):
    land(tmp_path, 1, "a", ["o1", "o2", "o3"], T0)
    land(tmp_path, 1, "b", ["o2"], T0 + timedelta(minutes=1), op="delete")
    land(tmp_path, 1, "c", ["o2", "o4"], T0 + timedelta(minutes=2))  # o2 comes back
    land(tmp_path, 2, "d", ["o1", "o9"], T0)  # the same id in another tenant is another key
    land(tmp_path, 2, "e", ["o9"], T0 + timedelta(minutes=1), op="delete")
    assert live_keys(tmp_path, "orders", ("id",), T0) == {1: 3, 2: 2}
    assert live_keys(tmp_path, "orders", ("id",), T0 + timedelta(minutes=1)) == {1: 2, 2: 1}
    assert live_keys(tmp_path, "orders", ("id",), T0 + timedelta(minutes=2)) == {1: 4, 2: 1}
    assert live_keys(tmp_path, "orders", ("id",), T0 - timedelta(minutes=1)) == {}


def test_watermark_reads_statistics_and_files_without_them(tmp_path):
    land(tmp_path, 1, "a", ["o1", "o2"], T0)
    (landed,) = (tmp_path / "raw" / "orders").rglob("*.parquet")
    assert newest_in_file(landed) == T0
    # A file written without statistics is read instead, and its value counts the same.
    table = pq.read_table(landed)
    later = table.set_column(
        table.schema.get_field_index("_ingested_at"),
        "_ingested_at",
        pa.array([T0 + timedelta(minutes=5)] * len(table), table.schema.field("_ingested_at").type),
    )
    bare = landed.with_name("bare.parquet")
    pq.write_table(later, bare, write_statistics=False)
    assert not pq.ParquetFile(bare).metadata.row_group(0).column(0).statistics
    assert newest_in_file(bare) == T0 + timedelta(minutes=5)
    assert raw_watermark(tmp_path) == T0 + timedelta(minutes=5)


class PublishedCounts:
    """The part of a published snapshot the row-count check reads."""

    def __init__(self, watermark: datetime, orders: dict[int, int]) -> None:
        self.watermark = watermark
        self.marts = {"fct_orders"}
        self.manifest = {"marts": {"fct_orders": {"tenants": [str(t) for t in orders]}}}
        self._orders = orders

    def rows(self, mart: str, tenant_id: int) -> int:
        return self._orders.get(tenant_id, 0)


def test_row_count_check_names_every_tenant_and_mart_that_disagrees(tmp_path):
    land(tmp_path, 1, "a", ["o1", "o2", "o3"], T0)
    land(tmp_path, 2, "b", ["o1"], T0)
    agreeing = PublishedCounts(T0, {1: 3, 2: 1})
    missing = {"mart": "fct_refunds", "error": "not in the snapshot"}
    assert row_count_mismatches(agreeing, tmp_path) == [missing]
    # A tenant short of one order, one the raw zone no longer has, one never published.
    land(tmp_path, 2, "c", ["o1"], T0 + timedelta(minutes=1), op="delete")
    land(tmp_path, 3, "d", ["o7"], T0)
    short = PublishedCounts(T0 + timedelta(minutes=1), {1: 2, 2: 1})
    assert row_count_mismatches(short, tmp_path)[:-1] == [
        {"mart": "fct_orders", "tenant_id": 1, "published": 2, "raw": 3},
        {"mart": "fct_orders", "tenant_id": 2, "published": 1, "raw": 0},
        {"mart": "fct_orders", "tenant_id": 3, "published": 0, "raw": 1},
    ]
