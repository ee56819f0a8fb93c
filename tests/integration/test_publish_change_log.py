"""Publishing from a trusted change log: only the files its rows fall in are read.

Each test publishes a stand-in fact, changes it the way an ``apply_changes`` run does (rows
deleted and inserted, both kinds logged in ``<table>__changes``, a marker naming the run), and
publishes again trusting that run. The decisive check: a row changed *behind* the log's back in
a file the log does not touch stays as it was, which proves the file was linked unread; and the
files the log did touch come out byte for byte as a publish from scratch writes them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from warehouse.publish import MartSpec, mart_glob, publish

FACT = "main_marts.fct_orders"
LOG = "main_marts.fct_orders__changes"
MARKER = "main_marts.fct_orders__changed"
RUN = "inv-2"


def spec(period_column: str | None = "created_at", period: str = "year") -> list[MartSpec]:
    return [MartSpec("fct_orders", FACT, ("order_id",), period_column, period, MARKER, LOG)]


def make_db(path: Path) -> Path:
    """Orders of tenants 1 and 2 over August-October 2026, a few without a date."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema main_marts")
        con.execute(
            f"create table {FACT} (tenant_id bigint, order_id varchar, created_at timestamp, "
            "total_minor bigint)"
        )
        con.execute(
            f"insert into {FACT} select 1 + i % 2, 'o' || lpad(i::varchar, 4, '0'), "
            "case when i % 17 = 0 then null else timestamp '2026-08-01' + to_hours(i * 7) end, "
            "i * 37 % 1000 from range(300) t(i)"
        )
    return path


def apply(db: Path, deleted: str, inserted: str = "", logged: bool = True) -> None:
    """Replace rows as apply_changes does: log the deleted and inserted rows, set the marker."""
    with duckdb.connect(str(db)) as con:
        con.execute(f"create or replace table {LOG} as select * from {FACT} where {deleted}")
        con.execute(f"delete from {FACT} where {deleted}")
        if inserted:
            con.execute(f"insert into {FACT} values {inserted}")
            con.execute(f"insert into {LOG} values {inserted}")
        con.execute(
            f"create or replace table {MARKER} as select 1 as changed_keys, "
            f"'{RUN}' as invocation_id, {str(logged).lower()} as change_logged"
        )


def behind_the_logs_back(db: Path, order_id: str) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute(f"update {FACT} set total_minor = -1 where order_id = '{order_id}'")


def files(snapshot, tenant_id: int) -> dict[str, tuple[int, str]]:
    folder = snapshot.path / "fct_orders" / f"tenant_id={tenant_id}"
    return {
        p.name: (p.stat().st_ino, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
    }


def digests(snapshot) -> dict[str, str]:
    root = snapshot.path / "fct_orders"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def fresh(db: Path, tmp_path: Path, marts: list[MartSpec]):
    return publish(db, tmp_path / "fresh", watermark=None, marts=marts, reuse=False)


def rewritten(before, after, tenant_id: int) -> set[str]:
    old, new = files(before, tenant_id), files(after, tenant_id)
    return {name for name, (inode, _) in new.items() if old.get(name, (None,))[0] != inode}


def test_only_the_files_the_log_touched_are_read(tmp_path):
    db, var = make_db(tmp_path / "b.duckdb"), tmp_path / "var"
    first = publish(db, var, watermark=None, marts=spec())
    assert sorted(files(first, 1)) == [
        "part-2026-10.parquet",
        "part-2026.parquet",
        "part-undated.parquet",
    ]
    # One October order of tenant 1 changes its total; a new October order arrives.
    apply(
        db,
        "order_id = 'o0290'",
        "(1, 'o0290', '2026-10-24 02:00', 1), (1, 'o9000', '2026-10-20 08:00', 7)",
    )
    second = publish(db, var, watermark=None, marts=spec(), trusted_invocation=RUN)
    entry = second.manifest["marts"]["fct_orders"]
    assert entry["from_change_log"] is True and entry["unread"] is False
    assert rewritten(first, second, 1) == {"part-2026-10.parquet"}
    assert rewritten(first, second, 2) == set()
    assert second.rows("fct_orders", 1) == 151 and second.rows("fct_orders", 2) == 150
    assert digests(second) == digests(fresh(db, tmp_path, spec()))

    # A change the log does not mention, in a file it does not touch, is not seen: proof that
    # the untouched files were linked without being read.
    behind_the_logs_back(db, "o0002")  # tenant 1, August
    apply(db, "order_id = 'o9000'", "(1, 'o9000', '2026-10-20 08:00', 8)")
    third = publish(db, var, watermark=None, marts=spec(), trusted_invocation=RUN)
    stale = duckdb.sql(
        f"select total_minor from read_parquet('{mart_glob(third, 'fct_orders', 1)}') "
        "where order_id = 'o0002'"
    ).fetchall()
    assert stale == [(74,)]
    assert rewritten(second, third, 1) == {"part-2026-10.parquet"}


def test_a_new_newest_month_moves_the_old_one_into_its_year(tmp_path):
    db, var = make_db(tmp_path / "b.duckdb"), tmp_path / "var"
    first = publish(db, var, watermark=None, marts=spec())
    apply(db, "false", "(2, 'o9001', '2026-11-02 10:00', 5)")
    second = publish(db, var, watermark=None, marts=spec(), trusted_invocation=RUN)
    assert second.manifest["marts"]["fct_orders"]["from_change_log"] is True
    assert sorted(files(second, 2)) == [
        "part-2026-11.parquet",
        "part-2026.parquet",
        "part-undated.parquet",
    ]
    assert rewritten(first, second, 2) == {"part-2026-11.parquet", "part-2026.parquet"}
    assert rewritten(first, second, 1) == set()
    assert digests(second) == digests(fresh(db, tmp_path, spec()))


def test_a_newest_month_emptied_by_deletes_hands_over_to_the_month_before(tmp_path):
    db, var = make_db(tmp_path / "b.duckdb"), tmp_path / "var"
    publish(db, var, watermark=None, marts=spec())
    apply(db, "tenant_id = 1 and created_at >= '2026-10-01'")
    second = publish(db, var, watermark=None, marts=spec(), trusted_invocation=RUN)
    assert sorted(files(second, 1)) == [
        "part-2026-09.parquet",
        "part-2026.parquet",
        "part-undated.parquet",
    ]
    assert digests(second) == digests(fresh(db, tmp_path, spec()))


def test_a_tenant_whose_rows_are_all_deleted_leaves_the_snapshot(tmp_path):
    db, var = make_db(tmp_path / "b.duckdb"), tmp_path / "var"
    publish(db, var, watermark=None, marts=spec("created_at", "month"))
    apply(db, "tenant_id = 2")
    second = publish(
        db, var, watermark=None, marts=spec("created_at", "month"), trusted_invocation=RUN
    )
    assert second.rows("fct_orders", 2) == 0
    assert "2" not in second.manifest["marts"]["fct_orders"]["tenants"]
    assert not (second.path / "fct_orders" / "tenant_id=2").exists()
    assert digests(second) == digests(fresh(db, tmp_path, spec("created_at", "month")))


def test_an_unsplit_mart_rewrites_the_tenants_the_log_names(tmp_path):
    db, var = make_db(tmp_path / "b.duckdb"), tmp_path / "var"
    first = publish(db, var, watermark=None, marts=spec(None))
    behind_the_logs_back(db, "o0003")  # tenant 2
    apply(db, "order_id = 'o0002'", "(1, 'o0002', null, 1)")
    second = publish(db, var, watermark=None, marts=spec(None), trusted_invocation=RUN)
    assert rewritten(first, second, 1) == {"part-00000.parquet"}
    assert rewritten(first, second, 2) == set()
    assert second.rows("fct_orders", 1) == 150


@pytest.mark.parametrize(
    ("logged", "trusted"),
    [(False, RUN), (True, "inv-1"), (True, None)],
    ids=["log-not-written", "another-run", "untrusted"],
)
def test_without_a_trusted_log_every_file_is_read(tmp_path, logged, trusted):
    db, var = make_db(tmp_path / "b.duckdb"), tmp_path / "var"
    publish(db, var, watermark=None, marts=spec())
    behind_the_logs_back(db, "o0002")
    apply(db, "order_id = 'o0290'", "(1, 'o9000', '2026-10-20 08:00', 7)", logged=logged)
    second = publish(db, var, watermark=None, marts=spec(), trusted_invocation=trusted)
    assert second.manifest["marts"]["fct_orders"]["from_change_log"] is False
    assert digests(second) == digests(fresh(db, tmp_path, spec()))
