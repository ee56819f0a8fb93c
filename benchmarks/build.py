"""Warehouse build figures: a full build + publish, then an incremental one after new orders.

Generates a preset into a fresh lake (not timed as the build), runs the warehouse build job
(tenant export, compaction, dbt, publish) from scratch, lands ``--new-orders`` new orders spread
over the tenants the way ingestion would, and runs an incremental build; then lands as many
again on the same day and builds once more (``again``: the steady state of builds through a
day; the first one also crossed into a new month, as the first build of every month does). New
orders are placed two days after the generated history ends, as orders arriving between two
builds are: a whole local day later, so that in every zone they fall on the next UTC day too
(``--placed across`` spreads them over the history instead, like a backfill of old orders). In
between it
compacts the lake as ``shoplake compact`` would (timed apart as ``settle``): the generator lands
every file in the same minute, so the full build leaves them all as recent, and without this
the incremental build would pay for compacting the whole history, which a lake in service did
long before. For each build it reports wall time, raw rows per second, per-step seconds, the
slowest dbt nodes and the peak resident memory of the whole process tree (this process plus
dbt), and its CPU seconds (steadier than wall time on a shared machine). `large` (10 tenants,
20 M orders, ~60 M items) is the default and is big: ``--scale 0.01`` runs every size at 1 %.

Run: ``uv run python benchmarks/build.py --scale 0.01``. ``--lake-cache DIR`` keeps the generated
lake in DIR and later runs hard-link it instead of generating again (data files are never
changed in place: compaction writes new files), so before/after comparisons build equal data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingestion.generator import PRESETS, generate, tenant_definitions  # noqa: E402
from pipelines.build import run_build  # noqa: E402
from pipelines.lib.dbt import target_dir  # noqa: E402
from pipelines.lib.instance import dagster_instance  # noqa: E402
from warehouse.config import load_settings  # noqa: E402
from warehouse.contracts import validate_records  # noqa: E402
from warehouse.controldb import make_engine, make_session_factory, transaction, upgrade  # noqa: E402
from warehouse.controlplane import tenants as tenant_service  # noqa: E402
from warehouse.entities.sources import current_state_entities  # noqa: E402
from warehouse.lake import compact  # noqa: E402
from warehouse.lake.writer import batch_id_for, land_batch  # noqa: E402

SCALED = ("products", "customers", "orders")
OUT = Path(__file__).resolve().parent / "out"
ORDERS_PER_BATCH = 1_000


class TreeMemory:
    """Sample the summed RSS of this process and its descendants; keep the peak."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss(os.getpid()))


def tree_rss(root: int) -> int:
    """Return the resident bytes of ``root`` and every descendant (from /proc)."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        frontier = [pid for pid in children if pid not in tree]
        tree.update(frontier)
    return sum(rss.get(pid, 0) for pid in tree)


def prepare(args: argparse.Namespace, var_dir: Path):
    """Create var/, the control DB and the preset's tenants; return settings and tenant ids."""
    shutil.rmtree(var_dir, ignore_errors=True)
    settings = load_settings({"var_dir": var_dir, "env": "development"}, environ={})
    upgrade(settings.control_db_url)
    engine = make_engine(settings.control_db_url)
    ids = {}
    with transaction(make_session_factory(engine), write=True) as session:
        for tenant in tenant_definitions(args.preset, args.tenants):
            ids[tenant.slug] = tenant_service.create_tenant(session, **tenant.control_fields()).id
    engine.dispose()
    return settings, ids


def generated_lake(args: argparse.Namespace, settings, ids: dict[str, int]) -> tuple[int, float]:
    """Generate the preset into the lake, or link ``--lake-cache``'s copy; return rows, seconds."""
    started = time.perf_counter()
    if args.lake_cache is None:
        return generate_preset(args, settings.lake_root, ids), time.perf_counter() - started
    lake, counted = args.lake_cache / "lake", args.lake_cache / "rows.json"
    if not counted.exists():
        shutil.rmtree(lake, ignore_errors=True)
        counted.write_text(json.dumps({"rows": generate_preset(args, lake, ids)}))
    shutil.copytree(lake, settings.lake_root, copy_function=os.link, dirs_exist_ok=True)
    return json.loads(counted.read_text())["rows"], time.perf_counter() - started


def generate_preset(args: argparse.Namespace, lake: Path, ids: dict[str, int]) -> int:
    """Generate the preset (times ``--scale``) as Parquet into ``lake``; return its rows."""
    summary = generate(
        args.preset,
        lake,
        fmt="parquet",
        tenants=args.tenants,
        overrides=sizes(args),
        tenant_ids=ids,
        workers=args.workers,
        progress=30.0,
    )
    return summary.rows


def sizes(args: argparse.Namespace) -> dict[str, int]:
    """Return the preset's entity counts times ``--scale``."""
    base = PRESETS[args.preset].sizes
    return {name: max(1, round(getattr(base, name) * args.scale)) for name in SCALED}


def land_new_orders(
    settings,
    ids: dict[str, int],
    count: int,
    preset: str,
    placed_on: date | None,
    round_no: int = 1,
) -> int:
    """Land ``count`` new orders (with items), spread over the tenants, as API batches would.

    ``placed_on``: the local day the orders were placed (None keeps the generated days, spread
    over the whole history, as a backfill of old orders would be). Each round lands new ids.
    """
    scratch = settings.var_dir / "increment"
    per_tenant = max(1, count // len(ids))
    generate(
        preset,
        scratch,
        seed=6 + round_no,
        fmt="ndjson",
        tenants=len(ids),
        progress=False,
        overrides={"orders": per_tenant, "customers": 200, "products": 100},
    )
    landed = 0
    for slug, tenant_id in ids.items():
        lines = (scratch / slug / "orders.ndjson").read_bytes().splitlines()
        for start in range(0, len(lines), ORDERS_PER_BATCH):
            chunk = [
                renamed(line, placed_on, f"new{round_no}-")
                for line in lines[start : start + ORDERS_PER_BATCH]
            ]
            tables, errors = validate_records("order", chunk)
            assert not errors, errors[:3]
            batch = batch_id_for(tenant_id, f"benchmark-increment-{round_no}", start)
            landed += land_batch(
                settings.lake_root, tenant_id, batch, tables, source="api"
            ).rows.get("orders", 0)
    shutil.rmtree(scratch)
    return landed


def renamed(line: bytes, placed_on: date | None = None, prefix: str = "new-") -> bytes:
    """Give a generated order a new id and number, so it is a new order, not a new version.

    With ``placed_on``, the order moves to that local day (time of day, offset and the time
    from creation to last update kept).
    """
    record = json.loads(line)
    record["id"] = prefix + record["id"]
    record["order_number"] = prefix.upper() + record["order_number"]
    if placed_on is not None:
        created = datetime.fromisoformat(record["created_at"])
        moved = datetime.combine(placed_on, created.timetz())
        updated = datetime.fromisoformat(record["updated_at"])
        record["created_at"] = moved.isoformat()
        record["updated_at"] = (moved + (updated - created)).isoformat()
    return json.dumps(record).encode()


def cpu_seconds() -> float:
    """Return the CPU time of this process and its finished children (dbt runs as one)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed_build(settings, full_refresh: bool, raw_rows: int) -> dict:
    """Run one build; return its wall and CPU time, rows/s, step seconds and peak tree RSS."""
    started, cpu = time.perf_counter(), cpu_seconds()
    with TreeMemory() as memory:
        result = run_build(settings, full_refresh=full_refresh)
    wall = time.perf_counter() - started
    marts = {n: e["rows"] for n, e in result.snapshot.manifest["marts"].items()}
    return {
        "full_refresh": full_refresh,
        "wall_s": round(wall, 2),
        # Less sensitive than wall time to other work on the machine.
        "cpu_s": round(cpu_seconds() - cpu, 1),
        "raw_rows": raw_rows,
        "rows_per_s": round(raw_rows / wall),
        "peak_rss_mb": round(memory.peak / 2**20),
        "steps_s": step_seconds(settings, result.run_id),
        "slowest_dbt_nodes_s": slowest_dbt_nodes(settings),
        "mart_rows": sum(marts.values()),
        "build_id": result.snapshot.build_id,
    }


def step_seconds(settings, run_id: str) -> dict[str, float]:
    """Return each step's duration from the run's event log."""
    starts, seconds = {}, {}
    for record in dagster_instance(settings).all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value == "STEP_SUCCESS" and event.step_key in starts:
            seconds[event.step_key] = round(record.timestamp - starts[event.step_key], 2)
    return seconds


def dbt_run_results(settings) -> dict:
    """Return the ``run_results.json`` of the last dbt run of this warehouse."""
    return json.loads((target_dir(settings) / "run_results.json").read_text())


def slowest_dbt_nodes(settings, count: int = 8) -> dict[str, float]:
    """Return the ``count`` slowest models and tests of the last dbt run."""
    results = dbt_run_results(settings)["results"]
    timed = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:count]
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in timed}


def settle(settings) -> dict:
    """Compact the whole lake as ``shoplake compact`` would; return what it did and its time."""
    started = time.perf_counter()
    report = compact(settings.lake_root, current_entities=current_state_entities(settings.var_dir))
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "partitions": len(report.partitions),
        "files_merged": sum(p["inputs"] for p in report.partitions),
    }


def main() -> None:
    """Parse arguments, generate, build twice, and print the figures (table and JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="large", choices=sorted(PRESETS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply entity counts")
    parser.add_argument("--tenants", type=int, default=None, help="override the tenant count")
    parser.add_argument("--new-orders", type=int, default=10_000)
    parser.add_argument(
        "--placed",
        choices=("after", "across"),
        default="after",
        help="new orders placed after the history (default), or across it (a backfill)",
    )
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument("--var-dir", type=Path, default=None, help="default benchmarks/out/...")
    parser.add_argument("--lake-cache", type=Path, default=None, help="reuse a generated lake")
    args = parser.parse_args()
    var_dir = args.var_dir or OUT / f"build-{args.preset}-{args.scale:g}"
    settings, ids = prepare(args, var_dir)
    rows, seconds = generated_lake(args, settings, ids)
    report = {
        "preset": args.preset,
        "scale": args.scale,
        "tenants": len(ids),
        "sizes_per_tenant": sizes(args),
        "generated_rows": rows,
        "generate_s": round(seconds, 1),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    report["full"] = timed_build(settings, True, rows)
    report["settle"] = settle(settings)
    after_history = PRESETS[args.preset].sizes.end + timedelta(days=2)
    placed_on = after_history if args.placed == "after" else None
    landed = land_new_orders(settings, ids, args.new_orders, args.preset, placed_on)
    report["incremental"] = timed_build(settings, False, landed) | {
        "new_orders": landed,
        "placed": args.placed,
    }
    landed = land_new_orders(settings, ids, args.new_orders, args.preset, placed_on, round_no=2)
    report["again"] = timed_build(settings, False, landed) | {"new_orders": landed}
    print_table(report)
    print(json.dumps(report))


def print_table(report: dict) -> None:
    """Print the headline figures."""
    print(
        f"\npreset {report['preset']} x{report['scale']:g}: {report['tenants']} tenants, "
        f"{report['generated_rows']:,} raw rows generated in {report['generate_s']} s"
    )
    for name in ("full", "incremental", "again"):
        r = report[name]
        print(
            f"  {name:<12} {r['wall_s']:>8.1f} s (CPU {r['cpu_s']:>6.1f} s)  "
            f"{r['rows_per_s']:>10,} rows/s  "
            f"peak RSS {r['peak_rss_mb']:,} MB  steps {r['steps_s']}"
        )
        print(f"  {'':<12} slowest dbt nodes (s): {r['slowest_dbt_nodes_s']}")
        if name == "full":
            print(f"  {'settle':<12} {report['settle']['wall_s']:>8.1f} s  {report['settle']}")


if __name__ == "__main__":
    main()
