"""Readers of the published snapshot during builds and publishes: never an error, never a mix.

A reader process resolves CURRENT and counts every tenant partition of every mart in a loop,
the way the serving layer reads, while this process rebuilds the build database and publishes
again and again with a short retention (so old snapshots are deleted under the reader too).
Each count must equal the manifest the reader resolved.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.integration.test_publish import make_build_db
from warehouse.publish import Retention, current_snapshot, mart_glob, publish
from warehouse.publish.layout import snapshots_dir

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb
from warehouse.publish import current_snapshot, mart_glob

var_dir, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
pause = float(sys.argv[4])
con = duckdb.connect()
result = {"iterations": 0, "errors": [], "builds": []}
while not stop.exists():
    try:
        snap = current_snapshot(var_dir)
        for mart in snap.marts:
            for tenant in snap.manifest["marts"][mart]["tenants"]:
                glob = mart_glob(snap, mart, int(tenant))
                rows, others = con.execute(
                    "select count(*), count(*) filter (where tenant_id <> $1) "
                    "from read_parquet($2)", [int(tenant), glob]).fetchall()[0]
                if rows != snap.rows(mart, int(tenant)) or others:
                    result["errors"].append(f"{snap.build_id} {mart} {tenant}: {rows}/{others}")
        if not result["builds"] or result["builds"][-1] != snap.build_id:
            result["builds"].append(snap.build_id)
        result["iterations"] += 1
        time.sleep(pause)
    except Exception as exc:
        result["errors"].append(repr(exc))
out.write_text(json.dumps(result))
"""


def start_reader(
    var_dir: Path, tmp_path: Path, pause: float = 0.0
) -> tuple[subprocess.Popen, Path, Path]:
    """Start the reader process; ``pause`` seconds between rounds leave CPU to a real build."""
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    process = subprocess.Popen(
        [sys.executable, "-c", READER, str(var_dir), str(stop), str(out), str(pause)],
        cwd=Path(__file__).resolve().parents[2],
    )
    return process, stop, out


def stop_reader(process: subprocess.Popen, stop: Path, out: Path) -> dict:
    stop.touch()
    assert process.wait(timeout=60) == 0
    return json.loads(out.read_text())


def test_reader_sees_complete_snapshots_while_builds_publish(tmp_path):
    var_dir, db = tmp_path / "var", tmp_path / "build.duckdb"
    publish(make_build_db(db, {1: 200, 2: 100}), var_dir, watermark=None)
    process, stop, out = start_reader(var_dir, tmp_path)
    published = []
    try:
        for round_ in range(12):
            # The writer holds the build database read-write while the reader keeps reading.
            sizes = {1: 200 + 37 * round_, 2: 100 + 11 * round_, 3: 5 * round_ + 1}
            make_build_db(db, sizes, seed=round_)
            retention = Retention(keep=1, grace_seconds=1.0)
            published.append(publish(db, var_dir, watermark=None, retention=retention).build_id)
            time.sleep(0.1)
    finally:
        result = stop_reader(process, stop, out)
    assert result["errors"] == []
    assert result["iterations"] > 20
    assert len(set(result["builds"])) >= 4  # the reader really moved across publishes
    assert set(result["builds"]) <= {*published, result["builds"][0]}
    # Retention deleted snapshots while the reader ran: only the newest and those in grace stay.
    assert len(list(snapshots_dir(var_dir).iterdir())) < len(published)


PUBLISH_FOREVER = r"""
import sys
from pathlib import Path
from warehouse.publish import Retention, publish
while True:
    publish(Path(sys.argv[1]), Path(sys.argv[2]), watermark=None,
            retention=Retention(keep=2, grace_seconds=0))
"""


def test_killing_a_publish_at_any_moment_leaves_current_complete(tmp_path):
    var_dir = tmp_path / "var"
    db = make_build_db(tmp_path / "build.duckdb", {1: 3000, 2: 2000, 3: 500})
    root = Path(__file__).resolve().parents[2]
    for delay in (0.3, 0.45, 0.6, 0.8, 1.0, 1.3):
        process = subprocess.Popen(
            [sys.executable, "-c", PUBLISH_FOREVER, str(db), str(var_dir)], cwd=root
        )
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if not (var_dir / "marts" / "CURRENT").exists():
            continue  # killed before the first publish finished
        snap = current_snapshot(var_dir)
        for mart in snap.marts:
            for tenant in (1, 2, 3):
                glob = mart_glob(snap, mart, tenant)
                rows = duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall()[0][0]
                assert rows == snap.rows(mart, tenant)
    assert (var_dir / "marts" / "CURRENT").exists()
    # The next publish clears whatever half-written folder the kills left behind.
    publish(db, var_dir, watermark=None)
    assert not list(snapshots_dir(var_dir).glob(".staging-*"))
