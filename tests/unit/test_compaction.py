"""Compaction: rows preserved and sorted, idempotency intact, concurrent readers unharmed."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import (
    LakeBusy,
    batch_id_for,
    compact,
    compaction,
    land_batch,
    ledger,
    list_files,
    read_current,
    read_table,
    relation,
    trash,
)
from warehouse.lake.compaction import size_tier
from warehouse.lake.lock import exclusive

TENANT = 4
START = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
VERSION = ["_ingested_at", "_batch_id", "_seq"]


def order_record(order_id: str, quantity: int = 1, items: int = 2) -> bytes:
    lines = [
        {
            "product_id": f"p{n}",
            "sku": f"S{n}",
            "name": "thing",
            "quantity": quantity,
            "unit_price_minor": 100,
        }
        for n in range(items)
    ]
    subtotal = 100 * quantity * items
    return json.dumps(
        {
            "id": order_id,
            "order_number": order_id,
            "status": "paid",
            "currency": "EUR",
            "subtotal_minor": subtotal,
            "total_minor": subtotal,
            "items": lines,
            "created_at": "2024-06-01T10:00:00Z",
            "updated_at": "2024-06-01T10:00:00Z",
        }
    ).encode()


def land_orders(
    root: Path, key: str, ids: list[str], *, minute: int = 0, quantity: int = 1, items: int = 2
):
    tables, errors = validate_records("order", [order_record(i, quantity, items) for i in ids])
    assert errors == []
    at = START + timedelta(minutes=minute)
    return land_batch(
        root, TENANT, batch_id_for(TENANT, key, 0), tables, source="api", clock=lambda: at
    )


def raw_files(root: Path, entity: str = "orders") -> list[Path]:
    return sorted(root.glob(f"raw/{entity}/tenant_id={TENANT}/date=*/*.parquet"))


def sorted_rows(table: pa.Table) -> list[dict]:
    return table.sort_by([(c, "ascending") for c in ["id", *VERSION]]).to_pylist()


@pytest.fixture
def lake(tmp_path) -> Path:
    for n, ids in enumerate([["o5", "o1"], ["o3"], ["o2", "o9", "o4"], ["o1"]]):
        land_orders(tmp_path, f"k{n}", ids, minute=n, quantity=n + 1)
    return tmp_path


def test_compaction_preserves_rows_and_sorts_by_key_then_version(lake):
    before = read_table(lake, "orders", TENANT)
    items_before = read_table(lake, "order_items", TENANT)
    report = compact(lake, current_entities=())
    assert {p["entity"]: p["inputs"] for p in report.partitions} == {"orders": 4, "order_items": 4}
    files = raw_files(lake)
    assert len(files) == 1 and files[0].name.startswith("compacted-")
    merged = pq.read_table(files[0])
    assert merged.schema.remove_metadata() == before.schema.remove_metadata()
    assert sorted_rows(merged) == sorted_rows(before)
    keys = list(zip(*(merged.column(c).to_pylist() for c in ["id", *VERSION]), strict=True))
    assert keys == sorted(keys)
    assert merged.column("id").to_pylist()[:3] == ["o1", "o1", "o2"]
    items = pq.read_table(raw_files(lake, "order_items")[0])
    assert items.num_rows == items_before.num_rows
    item_keys = list(
        zip(
            items.column("order_id").to_pylist(),
            items.column("line_number").to_pylist(),
            strict=True,
        )
    )
    assert item_keys == sorted(item_keys)
    assert pq.read_metadata(files[0]).row_group(0).column(0).compression == "ZSTD"
    assert len(list((lake / "_trash").rglob("*.parquet"))) == 8  # inputs kept for the grace period


def test_files_renamed_into_place_after_the_cutoff_are_kept_apart(tmp_path):
    land_orders(tmp_path, "old-1", ["o1", "o2"], minute=0)
    land_orders(tmp_path, "old-2", ["o3"], minute=1)
    cutoff = datetime.now(UTC)
    time.sleep(0.01)  # file times are the clock's; the cutoff must fall between the landings
    land_orders(tmp_path, "new", ["o4", "o1"], minute=2)
    before = sorted_rows(read_table(tmp_path, "orders", TENANT))
    report = compact(tmp_path, current_entities=(), keep_newer_than=cutoff)
    assert {p["entity"]: p["inputs"] for p in report.partitions} == {"orders": 2, "order_items": 2}
    assert report.skipped_recent == 2  # the new batch's orders and items files
    kept = [f for f in raw_files(tmp_path) if not f.name.startswith("compacted-")]
    assert len(raw_files(tmp_path)) == 2 and len(kept) == 1
    assert pq.read_table(kept[0]).column("id").to_pylist() == ["o4", "o1"]
    assert sorted_rows(read_table(tmp_path, "orders", TENANT)) == before
    # The next run without a cutoff (or a later one) merges them.
    compact(tmp_path, current_entities=())
    assert len(raw_files(tmp_path)) == 1
    assert sorted_rows(read_table(tmp_path, "orders", TENANT)) == before


def test_idempotency_is_still_detected_after_compaction(lake):
    compact(lake, current_entities=())
    again = land_orders(lake, "k0", ["o5", "o1"], minute=30)
    assert again.already_landed
    assert len(raw_files(lake)) == 1
    assert read_table(lake, "orders", TENANT).num_rows == 7


def test_nothing_to_do_below_min_files(tmp_path):
    land_orders(tmp_path, "only", ["o1"])
    report = compact(tmp_path, current_entities=())
    assert report.partitions == [] and len(raw_files(tmp_path)) == 1


def test_files_of_pending_batches_are_left_for_their_retry(lake, monkeypatch):
    monkeypatch.setattr(ledger, "commit", lambda *a, **k: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        land_orders(lake, "half", ["o7"], minute=10)
    monkeypatch.undo()
    report = compact(lake, current_entities=())
    assert report.skipped_pending == 2  # its orders and order_items files
    assert len(raw_files(lake)) == 2
    retried = land_orders(lake, "half", ["o7"], minute=11)
    assert not retried.already_landed and retried.rows["orders"] == 1
    assert read_table(lake, "orders", TENANT).num_rows == 8
    compact(lake, current_entities=())
    assert len(raw_files(lake)) == 1 and read_table(lake, "orders", TENANT).num_rows == 8


def test_interrupted_compaction_never_shows_a_row_twice_to_readers_and_is_finished(
    lake, monkeypatch
):
    before = sorted_rows(read_table(lake, "orders", TENANT))

    def crash(*args, **kwargs):
        raise OSError("killed after publishing the merged file")

    monkeypatch.setattr(trash, "discard", crash)
    with pytest.raises(OSError):
        compact(lake, entities=["orders"], current_entities=())
    monkeypatch.undo()
    globbed = raw_files(lake)
    assert len(globbed) == 5  # merged file plus its 4 inputs: each row visible twice to a glob
    raw = pa.concat_tables([pq.read_table(p).replace_schema_metadata(None) for p in globbed])
    assert raw.num_rows == 14
    assert (
        len(
            set(
                zip(
                    raw.column("_batch_id").to_pylist(), raw.column("_seq").to_pylist(), strict=True
                )
            )
        )
        == 7
    )
    assert len(list_files(lake, "orders", TENANT)) == 1  # the footer says what it replaces
    assert sorted_rows(read_table(lake, "orders", TENANT)) == before
    report = compact(lake, entities=["orders"], current_entities=())
    assert report.finished_interrupted == 4 and report.partitions == []
    assert len(raw_files(lake)) == 1
    assert sorted_rows(read_table(lake, "orders", TENANT)) == before


def test_concurrent_readers_never_fail_nor_lose_rows(tmp_path):
    landed = 0
    land_orders(tmp_path, "seed", ["o0"])
    landed += 1
    stop = threading.Event()
    problems: list[str] = []
    reads = {"ours": 0, "glob": 0}

    def our_reader():
        seen = 0
        while not stop.is_set():
            try:
                count = read_table(tmp_path, "orders", TENANT).num_rows
            except Exception as exc:  # any failure is a bug
                problems.append(f"read_table raised {exc!r}")
                return
            if count < seen:
                problems.append(f"rows went from {seen} to {count}")
            seen = count
            reads["ours"] += 1

    def glob_reader():
        # A naive reader: glob, open, read. It may find an input gone (moved to the trash) and
        # must then retry, but it must never meet a half-written or unreadable file.
        while not stop.is_set():
            for path in raw_files(tmp_path):
                try:
                    pq.read_table(path)
                except FileNotFoundError:
                    continue
                except Exception as exc:
                    problems.append(f"{path.name}: {exc!r}")
                    return
            reads["glob"] += 1

    threads = [threading.Thread(target=our_reader), threading.Thread(target=glob_reader)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(10):
            for n in range(3):
                land_orders(tmp_path, f"r{round_}-{n}", [f"o{round_}-{n}"], minute=round_)
                landed += 1
            compact(tmp_path, entities=["orders"], current_entities=None if round_ % 3 == 0 else ())
            time.sleep(0.005)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert problems == []
    assert reads["ours"] > 0 and reads["glob"] > 0
    assert read_table(tmp_path, "orders", TENANT).num_rows == landed


def test_current_state_keeps_latest_version_applies_deletes_and_follows_parents(tmp_path):
    land_orders(tmp_path, "a", ["o1", "o2", "o3"], minute=0, items=3)
    land_orders(tmp_path, "b", ["o2"], minute=1, quantity=5, items=1)  # o2 now has one line
    deletes = CONTRACTS["order"].delete_tables(["o3"])
    at = START + timedelta(minutes=2)
    land_batch(
        tmp_path,
        TENANT,
        batch_id_for(TENANT, "c", 0),
        deletes,
        source="crud",
        op="delete",
        clock=lambda: at,
    )
    report = compact(tmp_path)
    assert report.current == {f"orders/tenant_id={TENANT}": 2, f"order_items/tenant_id={TENANT}": 4}
    current = read_current(tmp_path, "orders", TENANT)
    assert current.column("id").to_pylist() == ["o1", "o2"]
    assert current.column("subtotal_minor").to_pylist() == [300, 500]
    items = read_current(tmp_path, "order_items", TENANT)
    assert list(
        zip(items.column("order_id").to_pylist(), items.column("quantity").to_pylist(), strict=True)
    ) == [("o1", 1), ("o1", 1), ("o1", 1), ("o2", 5)]
    assert compact(tmp_path).current == {}  # unchanged inputs: not rebuilt
    land_orders(tmp_path, "d", ["o3"], minute=3)  # re-created after the delete
    assert compact(tmp_path).current[f"orders/tenant_id={TENANT}"] == 3


def test_current_state_only_for_the_entities_asked(lake):
    report = compact(lake, current_entities=["order_items"])
    assert report.current == {f"order_items/tenant_id={TENANT}": 12}  # 6 orders, 2 lines each
    assert read_current(lake, "orders", TENANT) is None


@pytest.mark.parametrize(
    ("sizes", "floor", "merged"),
    [
        ({"a": 10, "b": 10, "c": 1000}, 0, ["a", "b"]),  # the big one waits for more
        ({"a": 10, "b": 30, "c": 50}, 0, ["a"]),  # one file: nothing to merge (compact needs 2)
        ({"a": 10, "b": 30, "c": 50}, 40, ["a", "b"]),  # b within the floor, c above a + b
        ({"a": 10, "b": 30, "c": 35}, 40, ["a", "b", "c"]),  # c no larger than a + b
        ({"n1": 5, "n2": 6, "big": 2_000, "mid": 11}, 8, ["mid", "n1", "n2"]),
        ({"n1": 5, "n2": 6, "big": 22, "mid": 11}, 8, ["big", "mid", "n1", "n2"]),
        ({}, 8, []),
    ],
)
def test_size_tier_takes_small_files_and_each_next_one_no_larger_than_the_rest(
    sizes, floor, merged
):
    assert size_tier(sizes, floor) == merged


def test_a_big_compacted_file_is_left_until_the_new_files_add_up_to_it(tmp_path, monkeypatch):
    land_orders(tmp_path, "bulk", [f"b{n:05d}" for n in range(4000)])
    land_orders(tmp_path, "bulk-2", [f"c{n:05d}" for n in range(4000)], minute=1)
    compact(tmp_path, entities=["orders"], current_entities=())
    (big,) = raw_files(tmp_path)
    monkeypatch.setattr(compaction, "SMALL_FILE_BYTES", big.stat().st_size // 4)
    for n in range(3):
        land_orders(tmp_path, f"new-{n}", [f"n{n}"], minute=2 + n)
    expected = sorted_rows(read_table(tmp_path, "orders", TENANT))
    report = compact(tmp_path, entities=["orders"], current_entities=())
    assert [(p["inputs"], p["left_apart"]) for p in report.partitions] == [(3, 1)]
    assert big in raw_files(tmp_path) and len(raw_files(tmp_path)) == 2
    assert sorted_rows(read_table(tmp_path, "orders", TENANT)) == expected
    # The new files' merged output stays apart, and a later run adds the next small files to it.
    land_orders(tmp_path, "new-3", ["n3"], minute=9)
    report = compact(tmp_path, entities=["orders"], current_entities=())
    assert [(p["inputs"], p["left_apart"]) for p in report.partitions] == [(2, 1)]
    assert big in raw_files(tmp_path)
    # Once the smaller files add up to the big one, it is merged with them.
    land_orders(tmp_path, "bulk-3", [f"d{n:05d}" for n in range(4000)], minute=10)
    land_orders(tmp_path, "bulk-4", [f"e{n:05d}" for n in range(4000)], minute=11)
    land_orders(tmp_path, "bulk-5", [f"f{n:05d}" for n in range(4000)], minute=12)
    others = {f: f.stat().st_size for f in raw_files(tmp_path) if f != big}
    monkeypatch.setattr(compaction, "SMALL_FILE_BYTES", max(others.values()))
    assert big.stat().st_size <= sum(others.values())
    expected = sorted_rows(read_table(tmp_path, "orders", TENANT))
    report = compact(tmp_path, entities=["orders"], current_entities=())
    assert [(p["inputs"], p["left_apart"]) for p in report.partitions] == [(5, 0)]
    assert len(raw_files(tmp_path)) == 1
    assert sorted_rows(read_table(tmp_path, "orders", TENANT)) == expected


def test_duckdb_relation_reads_the_same_rows(lake):
    compact(lake, entities=["orders"], current_entities=())
    land_orders(lake, "late", ["o8"], minute=20)
    with duckdb.connect() as conn:
        rel = relation(conn, lake, "orders", TENANT)
        assert rel.aggregate("count(*)").fetchall() == [(8,)]
        assert relation(conn, lake, "orders", TENANT + 1) is None


def test_old_trash_and_crash_temporaries_are_removed(lake):
    compact(lake, current_entities=())
    folder = raw_files(lake)[0].parent
    temp = folder / ".abc.parquet.tmp-123456789012"
    temp.write_bytes(b"half a file")
    old = time.time() - 7200
    os.utime(temp, (old, old))
    assert trash.purge(lake, datetime.now(UTC), timedelta(hours=1)) == 0  # still within grace
    report = compact(lake, current_entities=(), grace=timedelta(seconds=0))
    assert report.temporaries_removed == 1 and not temp.exists()
    assert report.trash_purged == 1 and not list((lake / "_trash").iterdir())


def test_only_one_compaction_runs_at_a_time(lake):
    with exclusive(lake, "compaction"), pytest.raises(LakeBusy):
        compact(lake)
