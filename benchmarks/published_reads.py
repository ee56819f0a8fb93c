"""Read latency of published fact partitions: one file per tenant against one file per period.

Splitting a fact's tenant partition into files per month or year (``meta.period_column``) lets
a build rewrite only the periods that changed, but a read of the partition now opens every
file. This measures the reads the API makes of ``fct_orders`` and ``fct_order_items`` on the
snapshots of one or more built warehouses (``benchmarks/build.py --var-dir DIR`` leaves them),
each through one cached DuckDB connection as a serving worker holds it:

* ``order_by_id``: one order by key (retrieve, and the snapshot half of read-your-write);
* ``order_lines``: the lines of one order;
* ``newest_page``: the newest 50 orders, the first page of a search;
* ``month_page``: 50 orders of one month ordered by time, a search with a date range;
* ``status_totals``: revenue by status over the whole partition (a full scan).

Orders are drawn at random from the tenant's partition, the same ones for every snapshot.
Reports p50/p99 milliseconds per read and snapshot.

Run: ``uv run python benchmarks/published_reads.py --var-dir A --var-dir B [--reads 300]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warehouse.publish import current_snapshot, mart_glob  # noqa: E402

READS = {
    "order_by_id": "select * from read_parquet('{orders}') where order_id = $id",
    "order_lines": "select * from read_parquet('{items}') where order_id = $id",
    "newest_page": (
        "select * from read_parquet('{orders}') order by created_at desc, order_id desc limit 50"
    ),
    "month_page": (
        "select * from read_parquet('{orders}') where created_at >= $month "
        "and created_at < $month + interval 1 month order by created_at, order_id limit 50"
    ),
    "status_totals": (
        "select status, count(*), sum(total_minor) from read_parquet('{orders}') group by 1"
    ),
}


def sample(con: duckdb.DuckDBPyConnection, orders: str, count: int, seed: int) -> list[tuple]:
    """Return ``count`` (order id, month start) pairs drawn from the partition."""
    rows = con.execute(
        f"select order_id, date_trunc('month', created_at) from read_parquet('{orders}') "
        "where created_at is not null order by order_id"
    ).fetchall()
    return random.Random(seed).sample(rows, min(count, len(rows)))


def measure(var_dir: Path, tenant_id: int, reads: int, seed: int) -> dict:
    """Time every read ``reads`` times on the snapshot of ``var_dir``; return percentiles."""
    snapshot = current_snapshot(var_dir)
    globs = {
        "orders": mart_glob(snapshot, "fct_orders", tenant_id),
        "items": mart_glob(snapshot, "fct_order_items", tenant_id),
    }
    con = duckdb.connect(config={"threads": 1})
    picks = sample(con, globs["orders"], reads, seed)
    figures = {}
    for name, template in READS.items():
        sql = template.format(**globs)
        timings = []
        for order_id, month in picks:
            params = {"id": order_id, "month": month}
            params = {k: v for k, v in params.items() if f"${k}" in sql}
            started = time.perf_counter()
            con.execute(sql, params).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        figures[name] = {
            "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        }
    files = len(list(Path(globs["orders"]).parent.glob("*.parquet")))
    return {"var_dir": str(var_dir), "order_files": files, "reads": figures}


def main() -> None:
    """Parse arguments, measure each snapshot, print a line per read and the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, action="append", required=True)
    parser.add_argument("--tenant", type=int, default=1, help="tenant id to read")
    parser.add_argument("--reads", type=int, default=300, help="reads of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = [measure(v, args.tenant, args.reads, args.seed) for v in args.var_dir]
    for result in results:
        print(f"{result['var_dir']}: {result['order_files']} file(s) of orders per tenant")
        for name, figure in result["reads"].items():
            print(f"  {name:<14} p50 {figure['p50_ms']:7.2f} ms  p99 {figure['p99_ms']:7.2f} ms")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
