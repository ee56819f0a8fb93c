"""Publishing mart snapshots: layout, manifest, tenant isolation, atomicity and retention."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from warehouse.publish import (
    MartSpec,
    NoSnapshot,
    Retention,
    UnknownMart,
    current_build_id,
    current_snapshot,
    mart_glob,
    prune,
    publish,
    read_history,
)
from warehouse.publish import export as export_module
from warehouse.publish.layout import snapshots_dir
from warehouse.publish.retention import switch_current

WATERMARK = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)


def make_build_db(path: Path, orders_per_tenant: dict[int, int], seed: int = 0) -> Path:
    """Write a stand-in build database: two marts, a staging view, and a non-mart table."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists main_marts")
        con.execute("create schema if not exists main_staging")
        con.execute(
            "create or replace table main_marts.fct_orders "
            "(tenant_id bigint, order_id varchar, total_minor bigint, note varchar)"
        )
        for tenant_id, count in orders_per_tenant.items():
            con.execute(
                "insert into main_marts.fct_orders select $1, 'o' || lpad((i * 7919 % $2)::varchar,"
                " 8, '0'), (i * 37 + $3) % 100000, case when i % 5 = 0 then null else 'n' end "
                "from range($2) t(i)",
                [tenant_id, count, seed],
            )
        con.execute(
            "create or replace table main_marts.mart_sales_daily as "
            "select tenant_id, count(*) as orders, sum(total_minor) as gross_minor "
            "from main_marts.fct_orders group by tenant_id"
        )
        con.execute("create or replace view main_staging.stg_shop__orders as select 1 as x")
        con.execute("create or replace table main.seed_lookup as select 1 as tenant_id")
    return path


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def build_db(tmp_path: Path) -> Path:
    return make_build_db(tmp_path / "build.duckdb", {1: 50, 2: 30})


def count(glob: str) -> int:
    return duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0]


def file_digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def test_nothing_published_yet(var_dir):
    assert current_build_id(var_dir) is None
    with pytest.raises(NoSnapshot):
        current_snapshot(var_dir)


def test_publish_writes_partitions_manifest_and_current(build_db, var_dir):
    tail_from = WATERMARK - timedelta(minutes=3)
    published = publish(
        build_db, var_dir, watermark=WATERMARK, tail_from=tail_from, info={"full_refresh": True}
    )
    snap = current_snapshot(var_dir)
    assert snap.build_id == published.build_id == current_build_id(var_dir)
    assert snap.marts == ("fct_orders", "mart_sales_daily")  # no staging view, no seed table
    assert snap.watermark == WATERMARK
    assert snap.tail_from == tail_from
    assert snap.manifest["build"] == {"full_refresh": True}
    orders = snap.manifest["marts"]["fct_orders"]
    assert orders["tenants"] == {"1": 50, "2": 30} and orders["rows"] == 80
    assert [c["name"] for c in orders["columns"]] == [
        "tenant_id",
        "order_id",
        "total_minor",
        "note",
    ]
    assert sorted(p.name for p in (snap.path / "fct_orders").iterdir()) == [
        "tenant_id=1",
        "tenant_id=2",
    ]


def test_mart_glob_names_only_the_tenants_partition(build_db, var_dir):
    publish(build_db, var_dir, watermark=WATERMARK)
    snap = current_snapshot(var_dir)
    glob = mart_glob(snap, "fct_orders", 2)
    assert "tenant_id=2" in glob and "tenant_id=1" not in glob
    tenants = duckdb.sql(f"select distinct tenant_id from read_parquet('{glob}')").fetchall()
    assert tenants == [(2,)]
    assert count(glob) == snap.rows("fct_orders", 2) == 30


def test_tenant_without_rows_gets_the_empty_schema_file(build_db, var_dir):
    publish(build_db, var_dir, watermark=None)
    snap = current_snapshot(var_dir)
    glob = mart_glob(snap, "fct_orders", 99)
    assert "tenant_id=" not in glob and count(glob) == 0
    columns = duckdb.sql(f"describe select * from read_parquet('{glob}')").fetchall()
    assert [c[0] for c in columns] == ["tenant_id", "order_id", "total_minor", "note"]
    assert snap.watermark is None and snap.tail_from is None


def test_publish_refuses_naive_instants(build_db, var_dir):
    with pytest.raises(ValueError, match="tail_from must be timezone-aware"):
        publish(build_db, var_dir, watermark=WATERMARK, tail_from=datetime(2026, 11, 1))


@pytest.mark.parametrize(
    "tenant_id",
    [
        "2",  # a string could carry path text into the glob
        True,  # bool is an int subclass
        -1,
        "1/../2",
    ],
)
def test_mart_glob_refuses_anything_but_a_tenant_int(build_db, var_dir, tenant_id):
    publish(build_db, var_dir, watermark=None)
    with pytest.raises(TypeError):
        mart_glob(current_snapshot(var_dir), "fct_orders", tenant_id)


def test_unknown_mart_is_refused(build_db, var_dir):
    publish(build_db, var_dir, watermark=None)
    with pytest.raises(UnknownMart):
        mart_glob(current_snapshot(var_dir), "stg_shop__orders", 1)


def test_partitions_are_sorted_by_key_in_small_row_groups(tmp_path, var_dir, monkeypatch):
    monkeypatch.setattr(export_module, "ROW_GROUP_ROWS", 2048)  # DuckDB's smallest
    db = make_build_db(tmp_path / "b.duckdb", {1: 5000})
    specs = [MartSpec("fct_orders", "main_marts.fct_orders", key=("order_id",))]
    publish(db, var_dir, watermark=None, marts=specs)
    snap = current_snapshot(var_dir)
    glob = mart_glob(snap, "fct_orders", 1)
    ids = [r[0] for r in duckdb.sql(f"select order_id from read_parquet('{glob}')").fetchall()]
    assert ids == sorted(ids)
    groups = duckdb.sql(f"select distinct row_group_id from parquet_metadata('{glob}')").fetchall()
    assert len(groups) == 3  # 5000 rows in groups of 2048
    assert snap.manifest["marts"]["fct_orders"]["key"] == ["order_id"]


def test_same_build_publishes_identical_bytes(build_db, var_dir):
    first = publish(build_db, var_dir, watermark=None)
    second = publish(build_db, var_dir, watermark=None, reuse=False)
    assert second.manifest["reused_files"] == 0
    assert first.build_id != second.build_id
    assert file_digests(first.path) == file_digests(second.path)
    assert len(file_digests(first.path)) == 6  # 2 tenants x 2 marts + 2 schema files


def test_mart_key_must_exist_and_rows_need_a_tenant(tmp_path, var_dir):
    db = make_build_db(tmp_path / "b.duckdb", {1: 3})
    with pytest.raises(ValueError, match="key or period columns"):
        publish(
            db,
            var_dir,
            watermark=None,
            marts=[MartSpec("fct_orders", "main_marts.fct_orders", key=("nope",))],
        )
    with duckdb.connect(str(db)) as con:
        con.execute("insert into main_marts.fct_orders values (null, 'x', 1, null)")
    with pytest.raises(ValueError, match="without a tenant_id"):
        publish(db, var_dir, watermark=None)
    assert current_build_id(var_dir) is None
    assert list(snapshots_dir(var_dir).iterdir()) == []  # the staging folder was removed


def test_failure_while_exporting_keeps_the_old_snapshot(build_db, tmp_path, var_dir, monkeypatch):
    old = publish(build_db, var_dir, watermark=WATERMARK)
    bigger = make_build_db(tmp_path / "bigger.duckdb", {1: 60, 2: 40, 3: 10})
    real = export_module.export_mart

    def die_on_second_mart(con, spec, snapshot, previous=None, trusted=None):
        if spec.name == "mart_sales_daily":
            raise OSError("disk full")
        return real(con, spec, snapshot, previous, trusted)

    monkeypatch.setattr(export_module, "export_mart", die_on_second_mart)
    with pytest.raises(OSError):
        publish(bigger, var_dir, watermark=WATERMARK)
    assert current_snapshot(var_dir).build_id == old.build_id
    assert [p.name for p in snapshots_dir(var_dir).iterdir()] == [old.build_id]


def test_failure_while_switching_keeps_the_old_snapshot(build_db, var_dir, monkeypatch):
    old = publish(build_db, var_dir, watermark=WATERMARK)

    def die(*_args, **_kwargs):
        raise OSError("power cut")

    monkeypatch.setattr("warehouse.publish.snapshots.switch_current", die)
    with pytest.raises(OSError):
        publish(build_db, var_dir, watermark=WATERMARK)
    assert current_snapshot(var_dir).build_id == old.build_id
    monkeypatch.undo()
    # The orphan folder never became CURRENT, so the next publish removes it at once.
    newest = publish(build_db, var_dir, watermark=WATERMARK, retention=Retention(keep=1))
    assert sorted(p.name for p in snapshots_dir(var_dir).iterdir()) == sorted(
        {old.build_id, newest.build_id}
    )


def test_leftover_staging_folder_is_cleared_and_never_read(build_db, var_dir):
    old = publish(build_db, var_dir, watermark=None)
    leftover = snapshots_dir(var_dir) / ".staging-20260101T000000000000Z-abcdef"
    (leftover / "fct_orders").mkdir(parents=True)
    assert current_snapshot(var_dir).build_id == old.build_id
    publish(build_db, var_dir, watermark=None)
    assert not leftover.exists()


def fake_snapshot(var_dir: Path, build_id: str, since: datetime) -> None:
    folder = snapshots_dir(var_dir) / build_id
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"build_id": build_id, "marts": {}}))
    switch_current(var_dir, build_id, now=since)


def ids(n: int) -> list[str]:
    return [f"2026010{i}T000000000000Z-00000{i}" for i in range(1, n + 1)]


def test_retention_keeps_newest_and_waits_out_the_grace_period(var_dir):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    builds = ids(4)
    for i, build_id in enumerate(builds):
        fake_snapshot(var_dir, build_id, start + timedelta(minutes=10 * i))
    # Build 3 was replaced at minute 30: within the grace period it stays (a reader may hold it).
    removed = prune(var_dir, keep=1, grace_seconds=600, now=start + timedelta(minutes=35))
    assert removed == builds[:2]
    assert sorted(p.name for p in snapshots_dir(var_dir).iterdir()) == builds[2:]
    removed = prune(var_dir, keep=1, grace_seconds=600, now=start + timedelta(minutes=40))
    assert removed == [builds[2]]
    assert [s.build_id for s in read_history(var_dir)] == [builds[3]]


def test_retention_never_deletes_current_even_if_older(var_dir):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    builds = ids(3)
    for i, build_id in enumerate(builds):
        fake_snapshot(var_dir, build_id, start + timedelta(minutes=i))
    switch_current(var_dir, builds[0], now=start + timedelta(minutes=5))  # a rollback
    removed = prune(var_dir, keep=1, grace_seconds=0, now=start + timedelta(hours=1))
    assert removed == [builds[1]]
    assert current_snapshot(var_dir).build_id == builds[0]
    assert (snapshots_dir(var_dir) / builds[2]).exists()  # newest is kept too


def test_retention_keep_must_be_positive(var_dir):
    with pytest.raises(ValueError):
        prune(var_dir, keep=0, grace_seconds=0)


def inode(snapshot, mart: str, tenant_id: int) -> int:
    return next((snapshot.path / mart / f"tenant_id={tenant_id}").iterdir()).stat().st_ino


def test_unchanged_partitions_are_linked_from_the_previous_snapshot(tmp_path, var_dir):
    db = make_build_db(tmp_path / "b.duckdb", {1: 50, 2: 30})
    first = publish(db, var_dir, watermark=None)
    before = {t: inode(first, "fct_orders", t) for t in (1, 2)}
    with duckdb.connect(str(db)) as con:  # tenant 2 gets one order more; tenant 1 is untouched
        con.execute("insert into main_marts.fct_orders values (2, 'extra', 5, null)")
    second = publish(db, var_dir, watermark=None, retention=Retention(keep=1, grace_seconds=0))
    # fct_orders of tenant 1, and mart_sales_daily of both (not rebuilt by this insert)
    assert second.manifest["reused_files"] == 3
    assert inode(second, "fct_orders", 1) == before[1]
    assert inode(second, "fct_orders", 2) != before[2]
    assert second.rows("fct_orders", 2) == 31
    assert count(mart_glob(second, "fct_orders", 2)) == 31
    # Retention removed the first snapshot: the linked file lives on in the second.
    assert not first.path.exists()
    assert count(mart_glob(second, "fct_orders", 1)) == 50


def test_changed_schema_or_full_refresh_writes_everything_again(tmp_path, var_dir):
    db = make_build_db(tmp_path / "b.duckdb", {1: 5, 2: 3})
    publish(db, var_dir, watermark=None)
    assert publish(db, var_dir, watermark=None, reuse=False).manifest["reused_files"] == 0
    with duckdb.connect(str(db)) as con:
        con.execute("alter table main_marts.fct_orders add column channel varchar")
    third = publish(db, var_dir, watermark=None)
    assert third.manifest["reused_files"] == 2  # mart_sales_daily only
    assert "channel" in {c["name"] for c in third.columns("fct_orders")}


def make_dated_db(path: Path, orders_per_tenant: dict[int, int]) -> Path:
    """A build database whose orders carry a creation time spread over three months (and nulls)."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists main_marts")
        con.execute(
            "create or replace table main_marts.fct_orders "
            "(tenant_id bigint, order_id varchar, created_at timestamp, total_minor bigint)"
        )
        for tenant_id, count in orders_per_tenant.items():
            con.execute(
                "insert into main_marts.fct_orders select $1, 'o' || lpad((i * 7919 % $2)::varchar,"
                " 6, '0'), case when i % 10 = 9 then null else timestamp '2026-08-31 23:00:00' "
                "+ to_hours(i * 24 * 61 // $2) end, i * 37 % 1000 from range($2) t(i)",
                [tenant_id, count],
            )
    return path


MONTHLY = [MartSpec("fct_orders", "main_marts.fct_orders", ("order_id",), "created_at")]
MONTH_FILES = [
    "part-2026-08.parquet",
    "part-2026-09.parquet",
    "part-2026-10.parquet",
    "part-undated.parquet",
]


def test_a_mart_split_by_month_gets_one_sorted_file_per_month(tmp_path, var_dir):
    db = make_dated_db(tmp_path / "b.duckdb", {1: 300, 2: 40})
    snapshot = publish(db, var_dir, watermark=None, marts=MONTHLY)
    folder = snapshot.path / "fct_orders" / "tenant_id=1"
    assert sorted(p.name for p in folder.iterdir()) == MONTH_FILES
    for file in folder.iterdir():
        rows = duckdb.sql(
            f"select order_id, strftime(created_at, '%Y-%m') from read_parquet('{file}')"
        ).fetchall()
        months = {month or "undated" for _, month in rows}
        assert [f"part-{m}.parquet" for m in months] == [file.name]
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert count(mart_glob(snapshot, "fct_orders", 1)) == 300 == snapshot.rows("fct_orders", 1)
    entry = snapshot.manifest["marts"]["fct_orders"]
    assert (entry["period_column"], entry["period"]) == ("created_at", "month")
    assert sorted(entry["fingerprints"]["1"]) == MONTH_FILES


@pytest.mark.parametrize("gather_rows", [2_000_000, 0], ids=["one-scan", "scan-per-tenant"])
def test_new_rows_rewrite_their_month_and_link_the_others(
    tmp_path, var_dir, monkeypatch, gather_rows
):
    monkeypatch.setattr(export_module, "GATHER_ROWS", gather_rows)
    db = make_dated_db(tmp_path / "b.duckdb", {1: 300, 2: 40})
    first = publish(db, var_dir, watermark=None, marts=MONTHLY)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into main_marts.fct_orders values (1, 'new', '2026-10-30 10:00', 5), "
            "(1, 'newer', '2026-11-01 00:00', 6)"
        )
    second = publish(db, var_dir, watermark=None, marts=MONTHLY)
    old, new = (s.path / "fct_orders" / "tenant_id=1" for s in (first, second))
    inodes = {p.name: p.stat().st_ino for p in old.iterdir()}
    same = {p.name for p in new.iterdir() if p.stat().st_ino == inodes.get(p.name)}
    assert same == {"part-2026-08.parquet", "part-2026-09.parquet", "part-undated.parquet"}
    assert sorted(p.name for p in new.iterdir()) == sorted([*MONTH_FILES, "part-2026-11.parquet"])
    assert second.manifest["reused_files"] == 3 + 4  # tenant 2 did not change at all
    assert count(mart_glob(second, "fct_orders", 1)) == 302
    # The same rows published from scratch give the same bytes, whichever way each was written.
    fresh = publish(db, tmp_path / "other", watermark=None, marts=MONTHLY, reuse=False)
    assert fresh.manifest["reused_files"] == 0
    assert file_digests(fresh.path) == file_digests(second.path)


def test_tenants_are_gathered_in_batches_of_up_to_the_row_limit():
    def files(*rows: int) -> list[export_module.PartFile]:
        return [export_module.PartFile(None, None, n, str(n), None) for n in rows]

    changed = {1: files(300), 2: files(40, 20), 3: files(500), 4: files(10)}
    batches = export_module._batches(changed, 400)
    assert [sorted(batch) for batch in batches] == [[1, 2], [3], [4]]
    assert [sorted(b) for b in export_module._batches(changed, 0)] == [[1], [2], [3], [4]]
    assert [sorted(b) for b in export_module._batches(changed, 10**9)] == [[1, 2, 3, 4]]


@pytest.mark.parametrize("gather_rows", [2_000_000, 320, 0], ids=["one", "batched", "each"])
def test_a_full_export_is_the_same_however_tenants_are_gathered(tmp_path, monkeypatch, gather_rows):
    monkeypatch.setattr(export_module, "GATHER_ROWS", gather_rows)
    db = make_dated_db(tmp_path / "b.duckdb", {1: 300, 2: 40, 3: 7})
    mine = publish(db, tmp_path / "mine", watermark=None, marts=MONTHLY, reuse=False)
    monkeypatch.setattr(export_module, "GATHER_ROWS", 2_000_000)
    one = publish(db, tmp_path / "one", watermark=None, marts=MONTHLY, reuse=False)
    assert file_digests(mine.path) == file_digests(one.path)
    assert mine.rows("fct_orders", 3) == 7


YEARLY = [MartSpec("fct_orders", "main_marts.fct_orders", ("order_id",), "created_at", "year")]


def test_a_mart_split_by_year_gets_one_file_per_year_and_the_newest_month(tmp_path, var_dir):
    db = make_dated_db(tmp_path / "b.duckdb", {1: 300, 2: 40})
    with duckdb.connect(str(db)) as con:
        con.execute("insert into main_marts.fct_orders values (1, 'next', '2027-01-02', 5)")
    snapshot = publish(db, var_dir, watermark=None, marts=YEARLY)
    folder = snapshot.path / "fct_orders" / "tenant_id=1"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["part-2026.parquet", "part-2027-01.parquet", "part-undated.parquet"]
    assert count(str(folder / "part-2027-01.parquet")) == 1
    assert count(mart_glob(snapshot, "fct_orders", 1)) == 301
    # Each tenant's own newest month: tenant 2's is October 2026, apart from the rest of 2026.
    folder = snapshot.path / "fct_orders" / "tenant_id=2"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["part-2026-10.parquet", "part-2026.parquet", "part-undated.parquet"]
    year_file = folder / "part-2026.parquet"
    months = duckdb.sql(
        f"select distinct strftime(created_at, '%Y-%m') from read_parquet('{year_file}')"
    ).fetchall()
    assert sorted(months) == [("2026-08",), ("2026-09",)]


def test_rows_in_the_newest_month_rewrite_that_month_and_a_newer_month_its_year(tmp_path, var_dir):
    db = make_dated_db(tmp_path / "b.duckdb", {1: 300})
    first = publish(db, var_dir, watermark=None, marts=YEARLY)

    def rewritten(before, after) -> set[str]:
        old, new = (s.path / "fct_orders" / "tenant_id=1" for s in (before, after))
        inodes = {p.name: p.stat().st_ino for p in old.iterdir()}
        return {p.name for p in new.iterdir() if p.stat().st_ino != inodes.get(p.name)}

    with duckdb.connect(str(db)) as con:
        con.execute("insert into main_marts.fct_orders values (1, 'new', '2026-10-30 10:00', 5)")
    second = publish(db, var_dir, watermark=None, marts=YEARLY)
    assert rewritten(first, second) == {"part-2026-10.parquet"}
    with duckdb.connect(str(db)) as con:
        con.execute("insert into main_marts.fct_orders values (1, 'newer', '2026-11-01 00:00', 6)")
    third = publish(db, var_dir, watermark=None, marts=YEARLY)
    assert rewritten(second, third) == {"part-2026.parquet", "part-2026-11.parquet"}
    folder = third.path / "fct_orders" / "tenant_id=1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "part-2026-11.parquet",
        "part-2026.parquet",
        "part-undated.parquet",
    ]
    assert count(mart_glob(third, "fct_orders", 1)) == 302
    fresh = publish(db, tmp_path / "other", watermark=None, marts=YEARLY, reuse=False)
    assert file_digests(fresh.path) == file_digests(third.path)


def test_a_period_column_must_exist_and_a_period_be_known(tmp_path, var_dir):
    db = make_dated_db(tmp_path / "b.duckdb", {1: 3})
    spec = MartSpec("fct_orders", "main_marts.fct_orders", ("order_id",), "placed_at")
    with pytest.raises(ValueError, match="period columns"):
        publish(db, var_dir, watermark=None, marts=[spec])
    weekly = MartSpec("fct_orders", "main_marts.fct_orders", ("order_id",), "created_at", "week")
    with pytest.raises(ValueError, match="period 'week'"):
        publish(db, var_dir, watermark=None, marts=[weekly])
    assert current_build_id(var_dir) is None


def test_bytes_depend_on_the_rows_not_on_rows_deleted_before(tmp_path):
    # An incremental build's table once held a row with a null that a full refresh never saw.
    kept = "(1, 'a', 10, 'x'), (1, 'b', 20, 'y')"
    edited = tmp_path / "edited.duckdb"
    make_build_db(edited, {})
    with duckdb.connect(str(edited)) as con:
        con.execute(f"insert into main_marts.fct_orders values {kept}, (1, 'c', 30, null)")
        con.execute("delete from main_marts.fct_orders where order_id = 'c'")
    fresh = make_build_db(tmp_path / "fresh.duckdb", {})
    with duckdb.connect(str(fresh)) as con:
        con.execute(f"insert into main_marts.fct_orders values {kept}")
    spec = [MartSpec("fct_orders", "main_marts.fct_orders", ("order_id",))]
    one = publish(edited, tmp_path / "one", watermark=None, marts=spec)
    two = publish(fresh, tmp_path / "two", watermark=None, marts=spec)
    assert file_digests(one.path) == file_digests(two.path)


MARKED = [
    MartSpec(
        "fct_orders",
        "main_marts.fct_orders",
        ("order_id",),
        changed_marker="main_marts.fct_orders__changed",
    )
]


def set_marker(db: Path, changed_keys: int, invocation: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(
            "create or replace table main_marts.fct_orders__changed as "
            "select $1::bigint as changed_keys, $2 as invocation_id",
            [changed_keys, invocation],
        )


def test_a_mart_its_trusted_run_did_not_change_is_linked_unread(tmp_path, var_dir):
    db = make_build_db(tmp_path / "b.duckdb", {1: 30, 2: 20})
    first = publish(db, var_dir, watermark=None, marts=MARKED)
    assert first.manifest["marts"]["fct_orders"]["unread"] is False  # no previous snapshot
    # The table changes behind the marker's back: only a mart that is not read keeps old rows.
    with duckdb.connect(str(db)) as con:
        con.execute("delete from main_marts.fct_orders where tenant_id = 2")
    set_marker(db, 0, "inv-2")
    second = publish(db, var_dir, watermark=None, marts=MARKED, trusted_invocation="inv-2")
    entry = second.manifest["marts"]["fct_orders"]
    assert entry["unread"] is True and second.rows("fct_orders", 2) == 20
    assert entry["fingerprints"] == first.manifest["marts"]["fct_orders"]["fingerprints"]
    old, new = (
        s.path / "fct_orders" / "tenant_id=2" / "part-00000.parquet" for s in (first, second)
    )
    assert old.stat().st_ino == new.stat().st_ino
    assert count(mart_glob(second, "fct_orders", 2)) == 20
    # A marker (or a change log) beside a mart is not a mart of its own.
    found = publish(db, tmp_path / "found", watermark=None).manifest["marts"]
    assert sorted(found) == ["fct_orders", "mart_sales_daily"]


@pytest.mark.parametrize(
    ("marker", "trusted"),
    [
        ((3, "inv-2"), "inv-2"),  # the run changed keys
        ((0, "inv-1"), "inv-2"),  # the marker is an older run's
        ((0, "inv-2"), None),  # nobody vouches for the previous snapshot
        (None, "inv-2"),  # no marker at all
    ],
    ids=["changed", "stale-marker", "untrusted", "no-marker"],
)
def test_a_mart_is_read_unless_its_trusted_run_changed_nothing(tmp_path, var_dir, marker, trusted):
    db = make_build_db(tmp_path / "b.duckdb", {1: 30, 2: 20})
    publish(db, var_dir, watermark=None, marts=MARKED)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from main_marts.fct_orders where tenant_id = 2")
    if marker is not None:
        set_marker(db, *marker)
    second = publish(db, var_dir, watermark=None, marts=MARKED, trusted_invocation=trusted)
    assert second.manifest["marts"]["fct_orders"]["unread"] is False
    assert second.rows("fct_orders", 2) == 0
    assert second.rows("fct_orders", 1) == 30 and second.manifest["reused_files"] == 1
