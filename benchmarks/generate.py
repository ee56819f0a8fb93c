"""Generator throughput at the `large` preset, measured on a slice and extrapolated.

`large` is 10 tenants x (500,000 products, 400,000 customers, 2,000,000 orders, 100 price
samples per product): about a billion rows and some 200 GB of NDJSON, too much to write on
every run. This script generates one tenant at ``--fraction`` of every size (all row counts
scale linearly with it), reports rows/s per entity, and extrapolates the time for the whole
preset (10 tenants, ``--workers`` processes). Run: ``uv run python benchmarks/generate.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingestion.generator import PRESETS, generate  # noqa: E402

SCALED = ("products", "customers", "orders")


def measure(fraction: float, fmt: str, out: Path) -> dict:
    """Generate one tenant of `large` at ``fraction`` of its sizes; return the summary."""
    sizes = PRESETS["large"].sizes
    overrides = {name: max(1, round(getattr(sizes, name) * fraction)) for name in SCALED}
    started = time.perf_counter()
    cpu = time.process_time()
    summary = generate("large", out, tenants=1, fmt=fmt, overrides=overrides, progress=10.0)
    return summary.as_dict() | {
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "overrides": overrides,
    }


def report(result: dict, fraction: float, workers: int) -> dict:
    """Return per-entity rates and the extrapolated time of the full preset."""
    tenants = PRESETS["large"].tenants
    scale = tenants / fraction
    entities = {
        name: {
            "rows_slice": stats["rows"],
            "rows_per_s": stats["rows_per_s"],
            "rows_large": round(stats["rows"] * scale),
            "seconds_large_one_process": round(stats["seconds"] * scale),
        }
        for name, stats in result["entities"].items()
    }
    total_rows = result["rows"] * scale
    wall_large = result["wall_s"] * scale / min(workers, tenants)
    return {
        "preset": "large",
        "slice": {"tenants": 1, "fraction": fraction, "sizes": result["overrides"],
                  "rows": result["rows"], "wall_s": round(result["wall_s"], 2),
                  "cpu_s": round(result["cpu_s"], 2),
                  "rows_per_s": round(result["rows"] / result["wall_s"]),
                  "rows_per_cpu_s": round(result["rows"] / result["cpu_s"]),
                  "bytes": sum(f.get("bytes", 0) for f in result["files"]),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)},
        "entities": entities,
        "large": {"rows": round(total_rows), "workers": workers,
                  "bytes": round(sum(f.get("bytes", 0) for f in result["files"]) * scale),
                  "extrapolated_s": round(wall_large),
                  "extrapolated_min": round(wall_large / 60, 1)},
    }  # fmt: skip


def main() -> None:
    """Parse arguments, measure, print the figures as JSON and a short table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.05, help="share of one tenant")
    parser.add_argument("--fmt", default="ndjson", choices=("ndjson", "ndjson.gz"))
    parser.add_argument("--workers", type=int, default=2, help="processes assumed for `large`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shoplake-generate-") as tmp:
        result = measure(args.fraction, args.fmt, Path(tmp))
    figures = report(result, args.fraction, args.workers)
    print(json.dumps(figures, indent=2))
    print(f"\n{'entity':<16}{'rows/s':>12}{'rows (large)':>16}")
    for name, stats in figures["entities"].items():
        print(f"{name:<16}{stats['rows_per_s']:>12,}{stats['rows_large']:>16,}")
    part, large = figures["slice"], figures["large"]
    print(f"\nslice: {part['rows']:,} rows at {part['rows_per_s']:,} rows/s"
          f" ({part['rows_per_cpu_s']:,} per CPU second); large: {large['rows']:,} rows,"
          f" ~{large['extrapolated_min']} min with {large['workers']} worker(s)")  # fmt: skip


if __name__ == "__main__":
    main()
