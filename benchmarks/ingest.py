"""HTTP ingest throughput against gunicorn on loopback, beside an in-process pyarrow baseline.

    uv run python benchmarks/ingest.py [--orders 1000000] [--clients 2] [--workers 2]

Generates N orders with the generator (NDJSON, one tenant), then in one run measures:

* baseline: the same bytes parsed by ``pyarrow.json.read_json`` (explicit schema, all cores) and
  written as one zstd Parquet file, fsynced, in-process (no validation, no HTTP);
* HTTP ingest of the file as NDJSON and as gzip NDJSON through ``shoplake serve`` (gunicorn),
  pushed by ``--clients`` concurrent clients in chunks of ``--lines-per-request`` lines, each
  run against a fresh server and lake. Both are compared with the plain baseline: gzip's
  decompression is the server's own cost.

Each side runs several times (``--baseline-runs``, ``--http-runs``) and its fastest run counts,
so a moment of load from other work can flatter neither; memory peaks are the highest of all
runs.

Reports rows/s, MB/s (uncompressed NDJSON), the ratio to the baseline (target >= 0.5), the
server's CPU seconds, and its memory at idle and at peak (target < 300 MB):

* ``tree_rss_mb``: physical pages mapped by the server's processes (master and workers), each
  page counted once however many of them map it - the RSS of the server as a whole. Read from
  ``/proc/<pid>/pagemap``, which gives page frame numbers to root only; elsewhere it is null.
* ``pss_mb``: PSS summed over the tree. It splits pages shared with processes outside the tree
  (libraries mapped by other Python processes on the machine) too, so on a busy machine it
  reads lower than ``tree_rss_mb``; plain RSS summed would count forked pages once per worker.

The machine's load average is printed with each phase: other work on the 2 cores slows the
HTTP runs and the baseline alike, but not evenly.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow.json as pajson
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import (  # noqa: E402
    MemorySampler,
    cpu_seconds,
    free_port,
    memory,
    process_tree,
    start_server,
    stop_server,
)
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
    seconds = time.perf_counter() - started
    del table
    target.unlink()
    return seconds


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
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--http-runs", type=int, default=2)
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
    runs = [baseline(source, work) for _ in range(args.baseline_runs)]
    base_s = min(runs)
    report = {
        "orders": rows,
        "ndjson_mb": round(megabytes, 1),
        "baseline_rows_per_s": round(rows / base_s),
        "baseline_runs_s": [round(r, 2) for r in runs],
        "baseline_load_avg": _load(),
    }
    for compress in (False, True):
        runs = [http_run(args, work, source, compress, i) for i in range(args.http_runs)]
        best = min(runs, key=lambda r: r["seconds"])
        report["http_gzip" if compress else "http_ndjson"] = {
            "rows_inserted": best["rows_inserted"],
            "runs_s": [r["seconds"] for r in runs],
            "load_avg": [r["load_avg"] for r in runs],
            "rows_per_s": round(rows / best["seconds"]),
            "mb_per_s": round(megabytes / best["seconds"], 1),
            "ratio_to_baseline": round(base_s / best["seconds"], 2),
            "server_cpu_us_per_row": round(min(r["cpu_s"] for r in runs) / rows * 1e6, 1),
            "idle_mb": runs[0]["idle_mb"],
            # The highest of every run, whichever was fastest.
            "peak_mb": {
                k: max((r["peak_mb"][k] for r in runs), key=lambda v: v or 0)
                for k in runs[0]["peak_mb"]
            },
        }
    print(json.dumps(report, indent=2))


def http_run(args: argparse.Namespace, work: Path, source: Path, compress: bool, n: int) -> dict:
    """Push the file once through a fresh server; return time, CPU and memory."""
    var_dir = work / f"var-{compress}-{n}"
    var_dir.mkdir()
    key = setup(var_dir)
    port = free_port()
    bodies = request_bodies(source, args.lines_per_request, compress)
    server = start_server(var_dir, port, args.workers)
    try:
        time.sleep(1)  # let the workers settle before reading their idle footprint
        idle = memory(server.pid)
        sampler = MemorySampler(server.pid, interval=0.1, tree_every=4)
        sampler.start()
        cpu_before, load_before = cpu_seconds(process_tree(server.pid)), _load()
        started = time.perf_counter()
        inserted = post_all(port, key, bodies, args.clients, compress)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(process_tree(server.pid)) - cpu_before
        sampler.stop()
    finally:
        stop_server(server)
    return {
        "rows_inserted": inserted,
        "seconds": round(seconds, 2),
        "cpu_s": cpu,
        "load_avg": [load_before, _load()],
        "idle_mb": {name: _mb(value) for name, value in idle.items()},
        "peak_mb": {name: _mb(value) for name, value in sampler.peaks().items()},
    }


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _mb(kib: int | None) -> int | None:
    return None if kib is None else round(kib / 1024)


if __name__ == "__main__":
    main()
