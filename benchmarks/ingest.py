"""HTTP ingest throughput against gunicorn on loopback, beside an in-process pyarrow baseline.

    uv run python benchmarks/ingest.py [--orders 1000000] [--clients 2] [--workers 2]

Generates N orders with the generator (NDJSON, one tenant), then in one run measures:

* baseline: the same bytes parsed by ``pyarrow.json.read_json`` and written as zstd Parquet
  in-process (no validation, no HTTP);
* HTTP ingest of the file as NDJSON and as gzip NDJSON through ``shoplake serve`` (gunicorn),
  pushed by ``--clients`` concurrent clients in chunks of ``--lines-per-request`` lines.

Reports rows/s, MB/s (uncompressed NDJSON), the ratio to the baseline (target >= 0.5) and the
server's peak RSS summed over master and workers (target < 300 MB).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pyarrow.json as pajson
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingestion.generator import generate  # noqa: E402
from warehouse.controldb import make_engine, make_session_factory, transaction, upgrade  # noqa: E402
from warehouse.controldb.models import Tenant  # noqa: E402
from warehouse.controlplane import apikeys  # noqa: E402


def make_orders(directory: Path, orders: int) -> Path:
    generate(
        "small",
        directory,
        tenants=1,
        fmt="ndjson",
        progress=False,
        overrides={
            "orders": orders,
            "customers": max(1000, orders // 5),
            "products": 5000,
            "sessions_per_order": 0,
            "price_samples": 1,
        },
    )
    return next(directory.glob("*/orders.ndjson"))


def baseline(path: Path, out_dir: Path) -> float:
    """Seconds to parse the NDJSON with pyarrow (explicit schema) and write zstd Parquet."""
    with open(path, "rb") as source:
        sample = b"".join(line for _, line in zip(range(5000), source, strict=False))
    options = pajson.ParseOptions(explicit_schema=pajson.read_json(io.BytesIO(sample)).schema)
    started = time.perf_counter()
    table = pajson.read_json(path, parse_options=options)
    target = out_dir / "baseline.parquet"
    pq.write_table(table, target, compression="zstd")
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())
    return time.perf_counter() - started


def request_bodies(path: Path, lines: int, compress: bool) -> list[bytes]:
    bodies, batch = [], []
    with open(path, "rb") as source:
        for line in source:
            batch.append(line)
            if len(batch) == lines:
                bodies.append(b"".join(batch))
                batch = []
    if batch:
        bodies.append(b"".join(batch))
    return [gzip.compress(b, 1) for b in bodies] if compress else bodies


class RssSampler(threading.Thread):
    """Sample a process tree's memory every 50 ms; keep the peak.

    Memory is summed as PSS (shared pages split between the processes sharing them), which is
    what the tree really occupies; plain RSS would count gunicorn's forked, shared pages once per
    worker. The largest single-process RSS is kept too.
    """

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.peak_kb, self.peak_process_kb, self.running = root_pid, 0, 0, True

    def run(self) -> None:
        while self.running:
            pids = _tree(self.root_pid)
            self.peak_kb = max(self.peak_kb, sum(_memory_kb(p, "Pss:") for p in pids))
            largest = max((_memory_kb(p, "Rss:") for p in pids), default=0)
            self.peak_process_kb = max(self.peak_process_kb, largest)
            time.sleep(0.05)


def _tree(pid: int) -> list[int]:
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
        frontier += [int(c) for c in children]
    return pids


def _memory_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def post_all(port: int, key: str, bodies: list[bytes], clients: int, compress: bool) -> int:
    """Send every body, ``clients`` at a time; return rows inserted."""
    inserted, lock, queue = [0], threading.Lock(), list(enumerate(bodies))

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                if not queue:
                    break
                index, body = queue.pop()
            headers = {
                "Content-Type": "application/x-ndjson",
                "X-API-Key": key,
                "Idempotency-Key": f"bench-{compress}-{index}",
            }
            if compress:
                headers["Content-Encoding"] = "gzip"
            connection.request("POST", "/api/v1/ingest/order/", body=body, headers=headers)
            reply = connection.getresponse()
            payload = json.loads(reply.read())
            if reply.status != 200:
                raise RuntimeError(f"{reply.status}: {payload}")
            with lock:
                inserted[0] += payload["rows_inserted"]
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return inserted[0]


def start_server(var_dir: Path, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "SHOPLAKE_VAR_DIR": str(var_dir),
        "SHOPLAKE_PORT": str(port),
        "SHOPLAKE_WORKERS": str(workers),
        "SHOPLAKE_LOG_LEVEL": "WARNING",
        "SHOPLAKE_RATELIMIT_TENANT_DEFAULT": "100000/minute",
        "SHOPLAKE_RATELIMIT_PRINCIPAL_DEFAULT": "100000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "shoplake", "serve"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def setup(var_dir: Path) -> str:
    url = f"sqlite:///{var_dir / 'control.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        tenant = Tenant(slug="bench", name="Bench", currency="EUR", timezone="Europe/Berlin")
        session.add(tenant)
        session.flush()
        return apikeys.create_key(session, tenant.id, "bench", ["ingest"]).secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lines-per-request", type=int, default=50_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shoplake-bench-ingest-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    source = make_orders(work / "data", args.orders)
    with open(source, "rb") as lines:
        rows = sum(1 for _ in lines)
    megabytes = source.stat().st_size / 1e6
    base_s = baseline(source, work)
    report = {
        "orders": rows,
        "ndjson_mb": round(megabytes, 1),
        "baseline_rows_per_s": round(rows / base_s),
    }
    for compress in (False, True):
        var_dir = work / f"var-{compress}"
        var_dir.mkdir()
        key = setup(var_dir)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = start_server(var_dir, port, args.workers)
        sampler = RssSampler(server.pid)
        sampler.start()
        try:
            bodies = request_bodies(source, args.lines_per_request, compress)
            started = time.perf_counter()
            inserted = post_all(port, key, bodies, args.clients, compress)
            seconds = time.perf_counter() - started
        finally:
            sampler.running = False
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()
        name = "http_gzip" if compress else "http_ndjson"
        report[name] = {
            "rows_inserted": inserted,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "mb_per_s": round(megabytes / seconds, 1),
            "ratio_to_baseline": round((rows / seconds) / (rows / base_s), 2),
            "server_peak_pss_mb": round(sampler.peak_kb / 1024),
            "largest_process_peak_rss_mb": round(sampler.peak_process_kb / 1024),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
