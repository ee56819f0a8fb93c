"""Streaming a 100,000-order search page from the running server: peak memory, first byte, rows/s.

    uv run python benchmarks/search_memory.py [--orders 100000] [--limit 100000] [--workers 2]

Generates one tenant with ``--orders`` orders (the `small` preset's shape, scaled) into a fresh
lake, builds and publishes the marts with the real build job, starts ``shoplake serve``
(gunicorn) on 127.0.0.1 and asks for one page of ``--limit`` orders in three shapes: NDJSON and
JSON with the default fields, and NDJSON with every field (customer joined, lines nested). Each
shape gets a freshly started server, so its peak is its own.

Two states of the lake are measured:

* ``just loaded``: right after the bulk load every order is still in the raw tail (a snapshot's
  tail starts a minute before its watermark, ``CLAIM_GRACE``, to catch batches still landing),
  so each query also deduplicates 100,000 raw versions;
* ``settled`` (skip with ``--no-settle``): after waiting out that minute, 20 more orders
  landed and an incremental build; reads are the snapshot plus a tiny tail, the steady state
  of a shop.

Reports per shape the time to the first body byte, the total time, rows/s and bytes, and the
server's peak memory next to the idle figures:

* tree RSS: every physical page the master and its workers map, counted once (what the server
  occupies; the forked workers share the preloaded app's pages with the master);
* the busiest worker's RSS (the one that served the page: its own pages plus the shared ones
  it touched);
* PSS summed over the tree and the largest single-process RSS. At idle the largest process is
  the master, which imported the whole app before forking;
* the floor: the same page read in a bare interpreter that imports only the search code
  (``search_floor.py``), and its statements replayed on DuckDB alone: RSS after the imports
  and the peak of each.

Target: peak under 200 MB. Figures go to ``benchmarks/out/search_memory.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (  # noqa: E402
    MemorySampler,
    free_port,
    process_tree,
    start_server,
    stop_server,
)
from benchmarks.search_floor import bare_page  # noqa: E402
from benchmarks.warehouse import BenchWarehouse, create  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
ALL_FIELDS = (
    "id,order_number,customer_id,status,currency,subtotal_minor,discount_minor,tax_minor,"
    "shipping_minor,total_minor,created_at,updated_at,payment,customer_email,customer_name,items"
)
TREE_EVERY = 4  # a tree RSS sample costs ~25 ms of CPU: every 4th 50 ms sample
SHAPES = {
    "ndjson, default fields": {"format": "ndjson"},
    "json, default fields": {"format": "json"},
    "ndjson, every field": {"format": "ndjson", "fields": ALL_FIELDS},
}


def prepare(var_dir: Path, orders: int) -> BenchWarehouse:
    """Create the tenant, generate its orders, build and publish."""
    warehouse = create(var_dir, "small")
    sizes = {"orders": orders, "customers": max(1000, orders // 5), "products": 2000}
    warehouse.generate({**sizes, "price_samples": 1})
    warehouse.build()
    return warehouse


def stream_once(port: int, key: str, params: dict[str, str]) -> dict[str, float]:
    """Fetch one page and read it to the end; return timings, rows and bytes."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", f"/api/v1/orders/search/?{query}", headers={"X-API-Key": key})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {response.read()[:500]!r}")
    first = response.read(1)
    first_byte = time.perf_counter() - started
    size, newlines, tail = 1, first.count(b"\n"), first
    while chunk := response.read(1 << 16):
        size, newlines = size + len(chunk), newlines + chunk.count(b"\n")
        tail = (tail + chunk)[-4096:]
    total = time.perf_counter() - started
    connection.close()
    rows = _rows(params.get("format"), newlines, tail)
    return {"first_byte_ms": first_byte * 1000, "total_s": total, "rows": rows,
            "rows_per_s": rows / total, "mb": size / 1e6}  # fmt: skip


def _rows(fmt: str | None, newlines: int, tail: bytes) -> int:
    if fmt == "ndjson":
        trailer = json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
        assert trailer["_page"]["count"] == newlines - 1, trailer
        return trailer["_page"]["count"]
    return json.loads(b"{" + tail.rsplit(b'],"next_cursor"', 1)[1].split(b",", 1)[1])["count"]


def measure(warehouse: BenchWarehouse, key: str, args: argparse.Namespace) -> dict:
    """Serve every shape from a freshly started server; keep timings and peak memory."""
    var_dir, lake_root = warehouse.settings.var_dir, warehouse.settings.lake_root
    results = {}
    for name, shape in SHAPES.items():
        port = free_port()
        server = start_server(var_dir, port, args.workers)
        try:
            with sampled(server.pid, tree_every=1) as idle:
                time.sleep(1)
            with sampled(server.pid, tree_every=TREE_EVERY) as peak:
                params = {"limit": str(args.limit), **shape}
                runs = [stream_once(port, key, params) for _ in range(args.repeats)]
        finally:
            stop_server(server)
        floor = bare_page(lake_root, var_dir, warehouse.first_tenant, shape.get("fields"))
        results[name] = {
            "rows": runs[-1]["rows"],
            "first_byte_ms": [round(r["first_byte_ms"], 1) for r in runs],
            "total_s": [round(r["total_s"], 2) for r in runs],
            "rows_per_s": round(max(r["rows_per_s"] for r in runs)),
            "body_mb": round(runs[-1]["mb"], 1),
            **{f"{state}_{field}": value for state, figures in (("idle", idle), ("peak", peak))
               for field, value in figures.items()},
            "bare_imported_rss_mb": floor["imported_rss_mb"],
            "bare_peak_rss_mb": floor["peak_rss_mb"],
            "bare_libraries": floor["libraries"],
            "duckdb_only_imported_rss_mb": floor["duckdb_only"]["imported_rss_mb"],
            "duckdb_only_peak_rss_mb": floor["duckdb_only"]["peak_rss_mb"],
        }  # fmt: skip
        print(name, json.dumps(results[name]), flush=True)
    return results


@contextmanager
def sampled(server_pid: int, tree_every: int) -> Iterator[dict[str, float | None]]:
    """Sample the server tree and each worker while the block runs; fill in their peaks (MB)."""
    tree = MemorySampler(server_pid, tree_every=tree_every)
    workers = [MemorySampler(pid) for pid in process_tree(server_pid)[1:]]
    figures: dict[str, float | None] = {}
    for sampler in (tree, *workers):
        sampler.start()
    try:
        yield figures
    finally:
        for sampler in (tree, *workers):
            sampler.stop()
    figures.update({
        "tree_rss_mb": _mb(tree.peak_tree_rss_kb),
        "worker_rss_mb": _mb(max((w.peak_process_rss_kb for w in workers), default=None)),
        "pss_mb": _mb(tree.peak_pss_kb),
        "process_rss_mb": _mb(tree.peak_process_rss_kb),
    })  # fmt: skip


def _mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-settle", action="store_true", help="skip the settled state")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shoplake-search-bench-"))
    report = {"orders": args.orders, "limit": args.limit, "workers": args.workers, "states": {}}
    try:
        warehouse = prepare(work / "var", args.orders)
        loaded_at, key = time.time(), warehouse.key(["read"])
        print("state: just loaded", flush=True)
        report["states"]["just loaded"] = measure(warehouse, key, args)
        if not args.no_settle:
            warehouse.settle(loaded_at)
            warehouse.build(full_refresh=False)
            print("state: settled", flush=True)
            report["states"]["settled"] = measure(warehouse, key, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "search_memory.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
