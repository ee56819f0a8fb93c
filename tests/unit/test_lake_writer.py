"""The landing writer: paths, metadata columns, zstd, atomicity under crashes, idempotency."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse.lake import batch_id_for, fsio, land_batch, ledger
from warehouse.lake.layout import ledger_file, raw_dir

TENANT = 7
DAY1 = datetime(2024, 5, 1, 23, 59, 30, tzinfo=UTC)


def clock(at: datetime = DAY1):
    return lambda: at


def orders(n: int = 3) -> dict[str, pa.Table]:
    return {
        "orders": pa.table({"id": [f"o{i}" for i in range(n)], "total_minor": list(range(n))}),
        "order_items": pa.table(
            {
                "order_id": [f"o{i // 2}" for i in range(2 * n)],
                "line_number": [i % 2 + 1 for i in range(2 * n)],
            }
        ),
    }


def visible(root: Path) -> list[Path]:
    """Every file a ``*.parquet`` glob under raw/ would see."""
    return sorted(root.glob("raw/*/*/*/*.parquet"))


def everything(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_lands_each_entity_in_its_tenant_date_partition(tmp_path):
    batch = batch_id_for(TENANT, "key-1", 0)
    landed = land_batch(tmp_path, TENANT, batch, orders(), source="api", clock=clock())
    assert landed.rows == {"orders": 3, "order_items": 6}
    assert not landed.already_landed
    for entity in ("orders", "order_items"):
        expected = raw_dir(tmp_path, entity, TENANT, DAY1.date()) / f"{batch}.parquet"
        assert landed.paths[entity] == expected
        assert expected.relative_to(tmp_path).as_posix() == (
            f"raw/{entity}/tenant_id=7/date=2024-05-01/{batch}.parquet"
        )
    assert visible(tmp_path) == sorted(landed.paths.values())


def test_rows_carry_metadata_columns_and_no_tenant(tmp_path):
    batch = batch_id_for(TENANT, "key-1", 0)
    landed = land_batch(tmp_path, TENANT, batch, orders(), source="crud", clock=clock())
    table = pq.read_table(landed.paths["orders"])
    assert table.column_names == [
        "id",
        "total_minor",
        "_batch_id",
        "_ingested_at",
        "_seq",
        "_op",
        "_source",
    ]
    assert table.column("_batch_id").to_pylist() == [batch] * 3
    assert table.column("_ingested_at").to_pylist() == [DAY1] * 3
    assert table.column("_seq").to_pylist() == [0, 1, 2]
    assert table.column("_op").to_pylist() == ["upsert"] * 3
    assert table.column("_source").to_pylist() == ["crud"] * 3
    assert table.schema.field("_ingested_at").type == pa.timestamp("us", tz="UTC")
    assert "tenant_id" not in table.column_names


def test_files_are_zstd_parquet(tmp_path):
    landed = land_batch(tmp_path, TENANT, batch_id_for(TENANT, "k", 0), orders(), source="api")
    metadata = pq.read_metadata(landed.paths["order_items"])
    row_group = metadata.row_group(0)
    assert {row_group.column(i).compression for i in range(row_group.num_columns)} == {"ZSTD"}


def test_delete_op_is_recorded(tmp_path):
    tables = {"orders": pa.table({"id": ["o1"], "total_minor": pa.array([None], pa.int64())})}
    landed = land_batch(
        tmp_path, TENANT, batch_id_for(TENANT, "d", 0), tables, source="crud", op="delete"
    )
    assert pq.read_table(landed.paths["orders"]).column("_op").to_pylist() == ["delete"]


def test_relanding_a_batch_is_a_no_op(tmp_path):
    batch = batch_id_for(TENANT, "key-1", 0)
    first = land_batch(tmp_path, TENANT, batch, orders(), source="api", clock=clock())
    stamp = first.paths["orders"].stat().st_mtime_ns
    # A retry the next day, even with other rows, finds the committed batch and writes nothing.
    again = land_batch(
        tmp_path, TENANT, batch, orders(5), source="api", clock=clock(DAY1 + timedelta(days=1))
    )
    assert again.already_landed
    assert (again.paths, again.rows, again.ingested_at) == (
        first.paths,
        first.rows,
        first.ingested_at,
    )
    assert first.paths["orders"].stat().st_mtime_ns == stamp
    assert len(visible(tmp_path)) == 2


def test_empty_entities_land_no_file_but_are_remembered(tmp_path):
    tables = {"orders": pa.table({"id": pa.array([], pa.string())})}
    batch = batch_id_for(TENANT, "empty", 0)
    landed = land_batch(tmp_path, TENANT, batch, tables, source="api")
    assert landed.rows == {"orders": 0} and landed.paths == {}
    assert visible(tmp_path) == []
    assert land_batch(tmp_path, TENANT, batch, tables, source="api").already_landed


def test_batch_id_is_deterministic_fixed_length_and_scoped():
    batch = batch_id_for(1, "key", 0)
    assert batch == batch_id_for(1, "key", 0)
    assert len(batch) == 32 and set(batch) <= set("0123456789abcdef")
    assert (
        len(
            {
                batch,
                batch_id_for(2, "key", 0),
                batch_id_for(1, "key", 1),
                batch_id_for(1, "key2", 0),
            }
        )
        == 4
    )
    # No ambiguity from concatenation: ("a:1", 0) and ("a", ...) differ.
    assert batch_id_for(1, "a", 10) != batch_id_for(1, "a1", 0)


@pytest.mark.parametrize("tenant", ["7", True, 0, -1, 7.0, None, 2**63])
def test_tenant_must_be_a_positive_int(tmp_path, tenant):
    with pytest.raises(ValueError, match="tenant_id"):
        land_batch(tmp_path, tenant, "0" * 32, orders(), source="api")
    assert everything(tmp_path) == []


@pytest.mark.parametrize(
    ("tables", "batch", "message"),
    [
        (
            {"orders": pa.table({"id": ["o1"], "tenant_id": [8]})},
            "0" * 32,
            "reserved",
        ),  # row data can't pick a tenant
        ({"orders": pa.table({"id": ["o1"], "_op": ["delete"]})}, "0" * 32, "reserved"),
        ({"../orders": pa.table({"id": ["o1"]})}, "0" * 32, "entity"),
        ({"orders": pa.table({"id": ["o1"]})}, "../../etc", "batch id"),
        ({"orders": pa.table({"id": ["o1"]})}, "A" * 32, "batch id"),
    ],
)
def test_unsafe_input_is_refused_before_writing(tmp_path, tables, batch, message):
    with pytest.raises(ValueError, match=message):
        land_batch(tmp_path, TENANT, batch, tables, source="api")
    assert everything(tmp_path) == []


def test_crash_before_rename_leaves_nothing_visible_and_retry_lands_once(tmp_path, monkeypatch):
    batch = batch_id_for(TENANT, "crash", 0)
    real_replace = os.replace

    def crash_on_items(source, target):
        if "order_items" in str(target):
            raise OSError("simulated crash")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", crash_on_items)
    with pytest.raises(OSError, match="simulated"):
        land_batch(tmp_path, TENANT, batch, orders(), source="api", clock=clock())
    monkeypatch.setattr(os, "replace", real_replace)

    # orders landed whole, order_items not at all; no temporary is left behind.
    assert [p.parent.parent.parent.name for p in visible(tmp_path)] == ["orders"]
    assert not [name for name in everything(tmp_path) if ".tmp-" in name]
    assert ledger.state(tmp_path, TENANT, batch) == "pending"
    orders_file = visible(tmp_path)[0]
    stamp = orders_file.stat().st_mtime_ns

    # The retry comes after midnight: it must still complete the batch in the same partition.
    landed = land_batch(
        tmp_path, TENANT, batch, orders(), source="api", clock=clock(DAY1 + timedelta(hours=1))
    )
    assert not landed.already_landed
    assert landed.ingested_at == DAY1
    assert landed.rows == {"orders": 3, "order_items": 6}
    assert len(visible(tmp_path)) == 2
    assert orders_file.stat().st_mtime_ns == stamp  # not rewritten
    items = pq.read_table(landed.paths["order_items"])
    assert items.column("_ingested_at").to_pylist() == [DAY1] * 6
    assert ledger.state(tmp_path, TENANT, batch) == "committed"


def test_crash_during_fsync_leaves_no_partial_file(tmp_path, monkeypatch):
    batch = batch_id_for(TENANT, "fsync", 0)
    real_fsync_file = fsio.fsync_file

    def failing_fsync(path):
        if "order_items" in str(path):
            raise OSError("disk went away")
        return real_fsync_file(path)

    monkeypatch.setattr(fsio, "fsync_file", failing_fsync)
    with pytest.raises(OSError, match="disk went away"):
        land_batch(tmp_path, TENANT, batch, orders(), source="api")
    monkeypatch.undo()
    assert [p.parent.parent.parent.name for p in visible(tmp_path)] == ["orders"]
    assert pq.read_table(visible(tmp_path)[0]).num_rows == 3  # complete and readable
    assert not [name for name in everything(tmp_path) if ".tmp-" in name]
    landed = land_batch(tmp_path, TENANT, batch, orders(), source="api")
    assert landed.rows == {"orders": 3, "order_items": 6}
    assert sum(pq.read_metadata(p).num_rows for p in visible(tmp_path)) == 9


def test_crash_between_files_and_commit_is_completed_by_retry(tmp_path, monkeypatch):
    batch = batch_id_for(TENANT, "commit", 0)

    def fail(*args, **kwargs):
        raise OSError("killed before commit")

    monkeypatch.setattr(ledger, "commit", fail)
    with pytest.raises(OSError):
        land_batch(tmp_path, TENANT, batch, orders(), source="api")
    monkeypatch.undo()
    before = {p: p.stat().st_mtime_ns for p in visible(tmp_path)}
    landed = land_batch(tmp_path, TENANT, batch, orders(), source="api")
    assert landed.rows == {"orders": 3, "order_items": 6} and not landed.already_landed
    assert {p: p.stat().st_mtime_ns for p in visible(tmp_path)} == before


def test_concurrent_landings_of_one_batch_land_it_once(tmp_path):
    batch = batch_id_for(TENANT, "race", 0)
    results, errors = [], []

    def land():
        try:
            results.append(land_batch(tmp_path, TENANT, batch, orders(), source="api"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=land) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {r.ingested_at for r in results} == {results[0].ingested_at}
    assert len(visible(tmp_path)) == 2
    assert sum(pq.read_metadata(p).num_rows for p in visible(tmp_path)) == 9
    assert ledger_file(tmp_path, TENANT, batch).exists()
