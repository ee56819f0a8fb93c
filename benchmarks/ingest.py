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
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow.json as pajson
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingestion.generator import generate  # noqa: E402
from warehouse.controldb import make_engine, make_session_factory, transaction, upgrade  # noqa: E402
from warehouse.controldb.models import Tenant  # noqa: E402
from warehouse.controlplane import apikeys  # noqa: E402

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


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


class MemorySampler(threading.Thread):
    """Sample a process tree's memory; keep the peaks (KiB).

    PSS every ``interval`` seconds; tree RSS (~25 ms of CPU per sample, taken from the cores the
    server is measured on) only every ``tree_every``-th time.
    """

    def __init__(self, root_pid: int, interval: float = 0.1, tree_every: int = 4) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.interval, self.tree_every = root_pid, interval, tree_every
        self.running = True
        self.peak: dict[str, int | None] = dict.fromkeys(("tree_rss", "pss", "largest_process_rss"))

    def run(self) -> None:
        samples = 0
        while self.running:
            tree = samples % self.tree_every == 0
            for name, value in memory(self.root_pid, tree=tree).items():
                if value is not None:
                    self.peak[name] = max(self.peak[name] or 0, value)
            samples += 1
            time.sleep(self.interval)


def memory(root_pid: int, tree: bool = True) -> dict[str, int | None]:
    """Return the tree's RSS (pages counted once), summed PSS and largest process RSS in KiB."""
    pids = _tree(root_pid)
    return {
        "tree_rss": _tree_rss_kb(pids) if tree else None,
        "pss": sum(_memory_kb(p, "Pss:") for p in pids),
        "largest_process_rss": max((_memory_kb(p, "Rss:") for p in pids), default=0),
    }


def _tree_rss_kb(pids: list[int]) -> int | None:
    frames = [_frames(pid) for pid in pids]
    frames = np.concatenate([f for f in frames if f is not None] or [np.zeros(0, np.uint64)])
    if frames.size and not frames.any():
        return None  # not root: the kernel hides frame numbers
    return len(np.unique(frames)) * PAGE_KB


def _frames(pid: int) -> np.ndarray | None:
    """Return the physical frame numbers of a process's resident pages."""
    present, frame_bits, page = np.uint64(1 << 63), np.uint64((1 << 55) - 1), PAGE_KB * 1024
    found = []
    try:
        maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                low, high = (int(x, 16) for x in line.split()[0].split("-"))
                if line.endswith("[vsyscall]"):
                    continue
                pagemap.seek(low // page * 8)
                entries = np.frombuffer(pagemap.read((high - low) // page * 8), np.uint64)
                found.append(entries[(entries & present) != 0] & frame_bits)
    except OSError:
        return None  # the process ended while being read
    return np.concatenate(found) if found else None


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


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bodies = request_bodies(source, args.lines_per_request, compress)
    server = start_server(var_dir, port, args.workers)
    try:
        time.sleep(1)  # let the workers settle before reading their idle footprint
        idle = memory(server.pid)
        sampler = MemorySampler(server.pid)
        sampler.start()
        cpu_before, load_before = _cpu_seconds(_tree(server.pid)), _load()
        started = time.perf_counter()
        inserted = post_all(port, key, bodies, args.clients, compress)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(_tree(server.pid)) - cpu_before
        sampler.running = False
        sampler.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    return {
        "rows_inserted": inserted,
        "seconds": round(seconds, 2),
        "cpu_s": cpu,
        "load_avg": [load_before, _load()],
        "idle_mb": {name: _mb(value) for name, value in idle.items()},
        "peak_mb": {name: _mb(value) for name, value in sampler.peak.items()},
    }


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _mb(kib: int | None) -> int | None:
    return None if kib is None else round(kib / 1024)


if __name__ == "__main__":
    main()
