"""Report export figures: >= 2 M rows exported by the running server, rows/s and peak memory.

    uv run python benchmarks/export.py [--orders 680000] [--work DIR] [--workers 1]
                                       [--runner thread|external]

Builds a real warehouse (not a synthetic snapshot): one tenant of the `small` preset scaled to
``--orders`` orders (~3 lines each, so ~2 M rows of ``fct_order_items``), generated into the
lake with ``ingestion.generator`` and built and published with ``pipelines.build.run_build``,
as ``tests/published.py`` does. With ``--work DIR`` the build is kept and reused next time.

Then it starts ``shoplake serve`` (gunicorn) - with ``--runner thread`` (the default setting)
the export runs in the API worker's job thread pool; with ``--runner external`` in a separate
``shoplake jobs run`` process - and, for CSV+gzip and Parquet, POSTs an ``order_items`` export,
polls it to the end and downloads the file. Reported per export: rows, seconds from POST to
succeeded, rows/s, file size, download MB/s, and memory sampled every 50 ms for the server's
tree, each gunicorn worker alone and the jobs worker: the largest single process's peak RSS (for
the process running the export; target < 200 MB), the peak PSS and, for the server, its tree
RSS (every page of master and workers counted once), beside the idle figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (  # noqa: E402
    MemorySampler,
    free_port,
    process_tree,
    start_server,
    start_shoplake,
    stop_server,
)
from benchmarks.warehouse import create  # noqa: E402

RUNS = (("csv", "gzip"), ("parquet", "none"))
BUILT = "built.json"


def build(var_dir: Path, orders: int) -> dict:
    """Generate one tenant with ``orders`` orders and build and publish its marts."""
    warehouse = create(var_dir, "small")
    sizes = {"orders": orders, "customers": max(1000, orders // 5), "products": 5000,
             "sessions_per_order": 0, "price_samples": 1}  # fmt: skip
    generate_s = warehouse.generate(sizes)
    started = time.perf_counter()
    result = warehouse.build()
    tenant_id = warehouse.first_tenant
    return {
        "tenant_id": tenant_id,
        "order_items": result.snapshot.rows("fct_order_items", tenant_id),
        "build_id": result.snapshot.build_id,
        "generate_s": round(generate_s, 1),
        "build_s": round(time.perf_counter() - started, 1),
        "key": warehouse.key(["read"]),
    }


def call(port: int, method: str, path: str, key: str, body: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    if response.status >= 400:
        raise RuntimeError(f"{method} {path}: {response.status} {payload}")
    return payload


def download(port: int, path: str, key: str) -> tuple[int, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("GET", path, headers={"X-API-Key": key})
    response = connection.getresponse()
    size = 0
    while block := response.read(1024 * 1024):
        size += len(block)
    connection.close()
    return size, time.perf_counter() - started


def memory(samplers: dict[str, MemorySampler]) -> dict:
    """Return each process tree's peaks since the samplers were last reset."""
    return {
        name: {
            "largest_process_rss_mb": round(sampler.peak_process_rss_kb / 1024),
            "tree_pss_mb": round(sampler.peak_pss_kb / 1024),
            **_tree_rss(sampler),
        }
        for name, sampler in samplers.items()
    }


def _tree_rss(sampler: MemorySampler) -> dict:
    """The tree's RSS (pages counted once), where the sampler takes it (root only)."""
    if not sampler.tree_every or sampler.peak_tree_rss_kb is None:
        return {}
    return {"tree_rss_mb": round(sampler.peak_tree_rss_kb / 1024)}


def export_once(port: int, key: str, fmt: str, compression: str, samplers: dict) -> dict:
    for sampler in samplers.values():
        sampler.peak_pss_kb = sampler.peak_process_rss_kb = 0
        sampler.peak_tree_rss_kb = None
    body = {"report": "order_items", "format": fmt, "compression": compression}
    started = time.perf_counter()
    export = call(port, "POST", "/api/v1/reports/export/", key, body)
    while export["status"] not in ("succeeded", "failed"):
        time.sleep(0.2)
        export = call(port, "GET", export["url"], key)
    seconds = time.perf_counter() - started
    if export["status"] != "succeeded":
        raise RuntimeError(export["error"])
    peaks = memory(samplers)
    size, download_s = download(port, export["download_url"], key)
    assert size == export["file"]["bytes"]
    return {
        "rows": export["progress"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(export["progress"] / seconds),
        "file_mb": round(size / 1e6, 1),
        "download_mb_per_s": round(size / 1e6 / download_s, 1),
        "peak_memory": peaks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=680_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runner", choices=("thread", "external"), default="thread")
    parser.add_argument("--work", type=Path, default=None, help="Keep (and reuse) the build here.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="shoplake-bench-export-"))
    var_dir, marker = work / "var", work / BUILT
    if marker.exists():
        built = json.loads(marker.read_text())
    else:
        built = build(var_dir, args.orders)
        marker.write_text(json.dumps(built))
    key = built.pop("key")
    port = free_port()
    env = {"SHOPLAKE_JOBS_THREADS": "1", "SHOPLAKE_JOBS_RUNNER": args.runner}
    processes = {}
    try:
        processes["server"] = start_server(var_dir, port, args.workers, **env)
        if args.runner == "external":
            command = ["jobs", "run", "--poll-seconds", "0.2"]
            processes["jobs_worker"] = start_shoplake(command, var_dir, port, 1, **env)
        # Tree RSS every 4th sample of the server (each costs ~25 ms of CPU).
        samplers = {name: MemorySampler(process.pid, tree_every=4 if name == "server" else 0)
                    for name, process in processes.items()}  # fmt: skip
        for index, pid in enumerate(process_tree(processes["server"].pid)[1:]):
            samplers[f"server_worker_{index}"] = MemorySampler(pid)  # gunicorn's workers alone
        for sampler in samplers.values():
            sampler.start()
        time.sleep(2)
        report = {**built, "workers": args.workers, "runner": args.runner}
        report["idle_memory"] = memory(samplers)
        for fmt, compression in RUNS:
            report[f"{fmt}+{compression}"] = export_once(port, key, fmt, compression, samplers)
        for sampler in samplers.values():
            sampler.stop()
    finally:
        for process in processes.values():
            stop_server(process)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
