"""Crash test: kill -9 the server repeatedly while `shoplake push` runs; resume; verify the lake.

Every acknowledged row must be present exactly once and no partial file may ever be visible.
The default suite runs two kills on a small push; `make stress` runs many on a larger one.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion.generator import generate
from warehouse.controldb import make_engine, make_session_factory, transaction, upgrade
from warehouse.controldb.models import Tenant
from warehouse.controlplane import apikeys
from warehouse.lake import read_table


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`shoplake serve` in its own process group, so kill -9 takes master and workers alike."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shoplake", "serve"],
                env=self.env,
                start_new_session=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180  # a loaded 2-core machine imports slowly
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def setup_instance(var_dir: Path) -> tuple[int, str]:
    url = f"sqlite:///{var_dir / 'control.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        tenant = Tenant(slug="crashy", name="Crashy", currency="EUR", timezone="Europe/Berlin")
        session.add(tenant)
        session.flush()
        secret = apikeys.create_key(session, tenant.id, "push", ["ingest"]).secret
        tenant_id = tenant.id
    engine.dispose()
    return tenant_id, secret


def run_crash_cycle(tmp_path: Path, orders: int, kills: int, lines_per_chunk: int) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    tenant_id, key = setup_instance(var_dir)
    generate(
        "small",
        tmp_path / "data",
        fmt="ndjson",
        tenants=1,
        overrides={"orders": orders, "customers": max(50, orders // 4), "products": 200},
        progress=False,
    )
    source = next((tmp_path / "data").glob("*/orders.ndjson"))
    expected = {json.loads(line)["id"] for line in source.read_bytes().splitlines() if line}
    port = free_port()
    env = {
        **os.environ,
        "SHOPLAKE_VAR_DIR": str(var_dir),
        "SHOPLAKE_PORT": str(port),
        "SHOPLAKE_WORKERS": "2",
        "SHOPLAKE_ENV": "test",
        "SHOPLAKE_LOG_LEVEL": "WARNING",
        "SHOPLAKE_INGEST_CHUNK_ROWS": "500",
    }
    server = Server(env, port, tmp_path / "server.log")
    server.start()
    push = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shoplake",
            "push",
            str(source),
            "--api-key",
            key,
            "--lines-per-chunk",
            str(lines_per_chunk),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    rng = random.Random(7)
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.3, 1.2))
            if push.poll() is not None:
                break
            server.kill()
            assert_no_partial_files(var_dir / "lake")
            time.sleep(rng.uniform(0.0, 0.5))
            server.start()
        out, _ = push.communicate(timeout=600)
    finally:
        server.stop()
        if push.poll() is None:
            push.kill()
    assert push.returncode == 0, out
    summary = json.loads(out[out.index(b"{") :])
    assert summary["rows_failed"] == 0
    assert_no_partial_files(var_dir / "lake")
    ids = read_table(var_dir / "lake", "orders", tenant_id, columns=["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)), "an order landed twice"
    assert set(ids) == expected, "an acknowledged order is missing"


def assert_no_partial_files(lake: Path) -> None:
    """Every visible Parquet file is complete: its footer reads."""
    for path in lake.rglob("*.parquet"):
        if not path.name.startswith("."):
            pq.read_metadata(path)


def test_kill_during_push_loses_and_duplicates_nothing(tmp_path):
    run_crash_cycle(tmp_path, orders=3000, kills=2, lines_per_chunk=500)


@pytest.mark.stress
def test_repeated_kills_during_a_long_push(tmp_path):
    run_crash_cycle(tmp_path, orders=60_000, kills=12, lines_per_chunk=2000)
