"""Mart endpoint latency and throughput under gunicorn on loopback, beside a trivial endpoint.

Generates the ``large`` preset's tenant sizes (``--scale`` of them, ``--tenants`` tenants),
builds and publishes the marts with the real build job, starts ``shoplake serve`` and drives
each endpoint with ``--clients`` concurrent keep-alive-free clients for ``--duration`` seconds:
summary overview, top selling, RFM segment list, sales metrics, search first page, the orders
list's first page, real-time metrics (never cached: each request reads the day's orders) and
``/healthz`` as the baseline. Reports req/s, p50/p90/p99 and the ratio to the baseline, once
with the answer cache on (dashboards repeat their queries; the first request per snapshot pays
the query and stores the answer for every worker of the node: its time is reported, and a
2-second burst before each measured run lets every worker load it) and once with it off
(``SHOPLAKE_MART_CACHE_ENTRIES=0``: every request queries the marts), plus the server's peak
PSS.

Uses ``wrk`` when it is on PATH (``apt-get install wrk``; a C client leaves the two cores to the
server), else a Python client, which is slower and says so in the output.

Run: ``uv run python benchmarks/serve.py --scale 0.05``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (  # noqa: E402
    MemorySampler,
    free_port,
    start_server,
    stop_server,
)
from benchmarks.loadgen import fetch, run_load  # noqa: E402
from benchmarks.warehouse import create  # noqa: E402
from ingestion.generator import PRESETS  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
SCALED = ("products", "customers", "orders")
WARM_UP_S = 2


def endpoints(end: date) -> dict[str, str]:
    """Return the measured paths by name: a 30-day window ending on the data's last day."""
    start = end - timedelta(days=29)
    window = f"start_date={start}&end_date={end}"
    return {
        "trivial (/healthz)": "/healthz",
        "summary overview": f"/api/v1/analytics/summary/overview/?{window}",
        "top selling": "/api/v1/products/top_selling/?limit=10",
        "rfm segments": "/api/v1/customers/segments/",
        "sales metrics": f"/api/v1/metrics/sales/?group_by=day&{window}",
        "search first page": "/api/v1/orders/search/?limit=50",
        "orders list page": "/api/v1/orders/?limit=50",
        "real-time today": "/api/v1/analytics/realtime/",
    }


def build_warehouse(work: Path, args: argparse.Namespace) -> tuple[Path, str, date]:
    """Generate, settle, build and publish; return the var dir, a read key and the last day."""
    warehouse = create(work / "var", args.preset, args.tenants)
    sizes = PRESETS[args.preset].sizes
    overrides = {name: max(1, round(getattr(sizes, name) * args.scale)) for name in SCALED}
    warehouse.generate(overrides, workers=2)
    if not args.no_settle:
        warehouse.settle(time.time())
    warehouse.build()
    return warehouse.settings.var_dir, warehouse.key(["read"]), sizes.end


def measure(var_dir: Path, key: str, paths: dict[str, str], args, cache: bool) -> dict:
    """Serve ``var_dir`` and load every path in turn; return figures by endpoint name."""
    port = free_port()
    env = {} if cache else {"SHOPLAKE_MART_CACHE_ENTRIES": "0"}
    server = start_server(var_dir, port, args.workers, **env)
    sampler = MemorySampler(server.pid)
    sampler.start()
    results = {}
    try:
        for name, path in paths.items():
            url = f"http://127.0.0.1:{port}{path}"
            first_ms = fetch(url, key)  # raises unless 200: a missing route fails the run
            # Each worker keeps its own copy of the answer the first request stored: a short
            # burst lets every one of them load it before the measured run.
            run_load(url, key, 2 * args.workers, WARM_UP_S)
            load = run_load(url, key, args.clients, args.duration)
            results[name] = {"first_request_ms": round(first_ms, 1), **load}
    finally:
        sampler.stop()
        stop_server(server)
    baseline = results["trivial (/healthz)"]["requests_per_s"]
    for figures in results.values():
        figures["ratio_to_trivial"] = round(figures["requests_per_s"] / baseline, 3)
    return {"server_peak_pss_mb": round(sampler.peak_pss_kb / 1024), "endpoints": results}


def report(title: str, figures: dict) -> None:
    print(f"\n{title} (server peak PSS {figures['server_peak_pss_mb']} MB)")
    print(f"{'endpoint':22} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'ratio':>6} {'first ms':>9} {'errors':>6}")  # fmt: skip
    for name, f in figures["endpoints"].items():
        print(f"{name:22} {f['requests_per_s']:8.0f} {f['p50_ms']:8.1f} {f['p90_ms']:8.1f} "
              f"{f['p99_ms']:8.1f} {f['ratio_to_trivial']:6.2f} {f['first_request_ms']:9.1f} "
              f"{f['errors']:6d}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="large", choices=sorted(PRESETS))
    parser.add_argument("--scale", type=float, default=0.05, help="share of the preset's sizes")
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-settle", action="store_true", help="build right after the load (a fresh import)"
    )
    parser.add_argument("--keep", action="store_true", help="reuse benchmarks/out/serve if built")
    args = parser.parse_args()
    work = OUT / "serve"
    summary_file = work / "warehouse.json"
    if args.keep and summary_file.exists():
        saved = json.loads(summary_file.read_text())
        var_dir, key, end = Path(saved["var_dir"]), saved["key"], date.fromisoformat(saved["end"])
    else:
        shutil.rmtree(work, ignore_errors=True)
        var_dir, key, end = build_warehouse(work, args)
        summary_file.write_text(json.dumps({"var_dir": str(var_dir), "key": key, "end": str(end)}))
    paths = endpoints(end)
    figures = {
        "args": vars(args),
        "cached": measure(var_dir, key, paths, args, cache=True),
        "uncached": measure(var_dir, key, paths, args, cache=False),
    }
    report("answer cache on", figures["cached"])
    report("answer cache off", figures["uncached"])
    (OUT / "serve.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
