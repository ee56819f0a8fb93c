"""Build the marts twice on generated data, in one process: ``python -m ...build <root>``.

The session fixture of tests/integration/test_marts_reference.py runs this in a subprocess, so
dbt is imported and the project parsed once for every invocation (dbtRunner with a reused
manifest), and dbt's process-wide state (logging, DuckDB handles) never touches pytest's.

Steps: generate `tiny` into <root>/lake and write the tenants export; land the first Stripe
payments (payment_changes.py); first `dbt run` with the refunds withheld (an entity without
files); land the second wave (changes.py, payment_changes.py) and change a tenant's settings;
incremental `dbt build` (every data and unit test) into <root>/warehouse; land a third wave (an
order refunded days later deleted) and build incrementally again; copies of that warehouse
rebuilt from their change logs' fallback (<root>/warehouse-fallback), and stock levels rebuilt
on the next as-of day (<root>/warehouse-next-day) and after a new low-stock default
(<root>/warehouse-new-default); `dbt run --full-refresh` into a fresh
<root>/warehouse-full; the facts alone, bounded by the raw watermark taken before the
changes, into <root>/warehouse-bounded. Writes <root>/summary.json.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from ingestion.generator import generate, tenant_definitions
from tests.integration.marts_reference import raw
from tests.integration.marts_reference.changes import (
    land_changes,
    land_default_minimum,
    land_third_wave,
)
from tests.integration.marts_reference.payment_changes import (
    choose_orders,
    land_first_payments,
    land_second_payments,
)

PROJECT = Path(__file__).resolve().parents[3] / "dbt_project"
AS_OF = date(2026, 11, 1)
NEXT_DAY = AS_OF + timedelta(days=1)
# Lookback 0: the incremental run must really read only what landed after its watermark.
DBT_VARS = {"as_of_date": AS_OF.isoformat(), "incremental_lookback_minutes": 0}
BOUNDED_FACTS = ("fct_orders", "fct_order_items", "fct_refunds", "fct_payments")
# Models that recompute only what their input's change log touches (record_changes).
CHANGE_LOG_READERS = {
    "intermediate.int_stock_events__leveled": ["tenant_id", "stock_event_id"],
    "intermediate.int_stock_ledger": ["tenant_id", "product_id", "variant_id"],
    "marts.mart_stock_movements": ["tenant_id", "product_id", "variant_id", "movement_date"],
    "marts.mart_stock_levels": ["tenant_id", "product_id", "variant_id"],
    "marts.mart_customer_lifetime": ["tenant_id", "customer_id"],
    "intermediate.int_sessions__summarized": ["tenant_id", "session_id"],
    "marts.mart_event_funnel": ["tenant_id", "funnel_date"],
    "intermediate.int_orders__localized": ["tenant_id", "order_id"],
    "intermediate.int_customer_orders": ["tenant_id", "customer_id"],
    "intermediate.int_product_sales": ["tenant_id", "product_id"],
    "intermediate.int_order_categories": ["tenant_id", "order_id", "category_path"],
    "marts.mart_sales_daily": ["tenant_id", "sales_date"],
    "marts.mart_sales_hourly": ["tenant_id", "sales_hour"],
}
# Tenant ids as the control DB would give them, with a few settings overridden.
TENANT_IDS = {"kaffeehaus-berlin": 11, "pacific-outfitters": 22, "tokyo-zakka": 33}
SETTINGS = {
    11: "{}",
    22: json.dumps(
        {
            "rfm_window_days": 90,
            "price_anomaly_threshold_pct": 25.0,
            "low_stock_default": 5,
            "vip_lifetime_value_minor": 20000,
            "high_value_order_minor": 10000,
        }
    ),
    33: None,
}
# Changed before the incremental build: its price series, and its orders and sales days (the
# high-value threshold), must all be recomputed.
FINAL_SETTINGS = {
    **SETTINGS,
    33: json.dumps({"price_anomaly_threshold_pct": 10.0, "high_value_order_minor": 2000}),
}
# Changed last, with nothing else: the low-stock default of a tenant alone moves its levels.
DEFAULT_CHANGES = 33
NEW_DEFAULT_SETTINGS = {
    **FINAL_SETTINGS,
    DEFAULT_CHANGES: json.dumps(
        {
            "price_anomaly_threshold_pct": 10.0,
            "high_value_order_minor": 2000,
            "low_stock_default": 7,
        }
    ),  # fmt: skip
}
# 00:30 on 1 November in each tenant's zone (31 October in UTC for two of them).
LOCAL_MIDNIGHT = {
    11: "2026-10-31T23:30:00+00:00",
    22: "2026-10-31T23:30:00-07:00",
    33: "2026-10-31T15:30:00+00:00",
}


def paths(root: Path) -> dict[str, Path]:
    """Return where everything of a build session lives under ``root``."""
    return {
        "lake": root / "lake",
        "held": root / "held",
        "incremental_db": root / "warehouse" / "build.duckdb",
        "full_db": root / "warehouse-full" / "build.duckdb",
        "bounded_db": root / "warehouse-bounded" / "build.duckdb",
        "fallback_db": root / "warehouse-fallback" / "build.duckdb",
        "next_day_db": root / "warehouse-next-day" / "build.duckdb",
        "new_default_db": root / "warehouse-new-default" / "build.duckdb",
        "incremental_target": root / "target-incremental",
        "summary": root / "summary.json",
    }


def write_tenants(path: Path, settings: dict[int, str | None]) -> None:
    """Write the control-plane tenants export the pipelines would write before a build."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"tenant_id": TENANT_IDS[t.slug], "slug": t.slug, "timezone": t.timezone,
         "currency": t.currency, "settings": settings[TENANT_IDS[t.slug]]}
        for t in tenant_definitions("tiny")
    ]  # fmt: skip
    pl.DataFrame(rows, schema_overrides={"tenant_id": pl.Int64}).write_parquet(path)


class Dbt:
    """Invoke dbt in this process, parsing the project once."""

    def __init__(self, lake: Path) -> None:
        from dbt.cli.main import dbtRunner

        self.runner_class, self.lake, self.manifest = dbtRunner, lake, None

    def __call__(self, args: list[str], warehouse: Path, target: Path, variables=DBT_VARS,
                 reread: str = ""):  # fmt: skip
        """Run one dbt command against ``warehouse``; raise with dbt's message if it fails.

        ``reread`` "none" stands for the pipelines after a completed build: change logs are
        trusted and each incremental model reads from its watermark (pipelines/lib/rereads.py).
        """
        os.environ.update(
            SHOPLAKE_LAKE_DIR=str(self.lake), SHOPLAKE_WAREHOUSE_PATH=str(warehouse),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false", SHOPLAKE_REREAD_FROM=reread,
        )  # fmt: skip
        os.environ.pop("SHOPLAKE_TENANTS_FILE", None)  # the export sits beside the database
        common = ["--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
                  "--target-path", str(target), "--log-path", str(target / "logs"),
                  "--vars", json.dumps(variables)]  # fmt: skip
        if self.manifest is None:
            self.manifest = self._check(self.runner_class().invoke(["parse", *common]))
        return self._check(self.runner_class(manifest=self.manifest).invoke([*args, *common]))

    @staticmethod
    def _check(outcome):
        if not outcome.success:
            failed = [
                f"{r.node.unique_id}: {r.message}"
                for r in getattr(outcome.result, "results", []) or []
                if str(r.status) in {"error", "fail"}
            ]
            raise RuntimeError(f"dbt failed: {outcome.exception or failed}")
        return outcome.result


def first_sold_units(dbt: Dbt, db: Path, target: Path, touched: dict) -> dict[str, dict]:
    """Return, per tenant, the units the marts hold for the second wave's first sale.

    ``sold``: all time (int_product_sales); ``recent``: in the velocity window ending on the
    as-of day (mart_stock_levels).
    """
    units = {}
    for tenant_id, roles in touched.items():
        where = f"tenant_id = {int(tenant_id)} and product_id = '{roles['first_sold_product']}'"
        query = (
            "select (select coalesce(sum(units_sold), 0) from {{ ref('int_product_sales') }} "
            f"where {where}) as sold, (select coalesce(sum(units_sold_30d), 0) "
            "from {{ ref('mart_stock_levels') }} " f"where {where}) as recent"
        )  # fmt: skip
        shown = dbt(["show", "--inline", query], db, target)
        sold, recent = shown.results[0].agate_table.rows[0]
        units[str(tenant_id)] = {"sold": int(sold), "recent": int(recent)}
    return units


def main(root: Path) -> None:
    """Run every step and write the summary the tests read."""
    p = paths(root)
    generate("tiny", p["lake"], fmt="parquet", tenant_ids=TENANT_IDS, progress=False)
    for db in (p["incremental_db"], p["full_db"], p["bounded_db"]):
        write_tenants(db.parent / "control" / "tenants.parquet", FINAL_SETTINGS)
    write_tenants(p["incremental_db"].parent / "control" / "tenants.parquet", SETTINGS)
    dbt = Dbt(p["lake"])
    paid = {t: choose_orders(p["lake"], t) for t in TENANT_IDS.values()}
    for tenant_id, orders in paid.items():
        land_first_payments(p["lake"], tenant_id, orders)
    # A product on its tenant's default minimum, for when that default changes.
    default_minimum = land_default_minimum(p["lake"], DEFAULT_CHANGES)
    # The first build runs before any refund has landed: an entity without files must work.
    p["held"].mkdir()
    (p["lake"] / "raw" / "refunds").rename(p["held"] / "refunds")
    dbt(["run"], p["incremental_db"], root / "target-first")
    shown = dbt(["show", "--inline", "select count(*) as n from {{ ref('fct_refunds') }}"],
                p["incremental_db"], root / "target-first")  # fmt: skip
    first_run_refunds = int(shown.results[0].agate_table.rows[0][0])
    (p["held"] / "refunds").rename(p["lake"] / "raw" / "refunds")
    before_changes = raw.newest_landing(p["lake"])
    touched = {t: land_changes(p["lake"], t, LOCAL_MIDNIGHT[t]) for t in TENANT_IDS.values()}
    write_tenants(p["incremental_db"].parent / "control" / "tenants.parquet", FINAL_SETTINGS)
    for tenant_id, orders in paid.items():
        land_second_payments(p["lake"], tenant_id, orders, touched[tenant_id]["deleted_order"])
    dbt(["build"], p["incremental_db"], p["incremental_target"], reread="none")
    first_sales = first_sold_units(dbt, p["incremental_db"], root / "target-show", touched)
    # A third wave and build: an order whose refund counted on a later day is deleted.
    for tenant_id in TENANT_IDS.values():
        late = land_third_wave(p["lake"], tenant_id, touched[tenant_id])
        touched[tenant_id]["deleted_late_refunded_order"] = late
    dbt(["build"], p["incremental_db"], p["incremental_target"], reread="none")
    # After a failed build the change logs are not trusted: models built from them recompute
    # everything incrementally, and must still end where the others do.
    shutil.copytree(p["incremental_db"].parent, p["fallback_db"].parent)
    readers = [relation.split(".")[1] for relation in CHANGE_LOG_READERS]
    dbt(["run", "-s", *readers], p["fallback_db"], root / "target-fallback")
    # The next day's first build slides every tenant's velocity window and moves every
    # customer's day counts with nothing new landed.
    shutil.copytree(p["incremental_db"].parent, p["next_day_db"].parent)
    next_day = {**DBT_VARS, "as_of_date": NEXT_DAY.isoformat()}
    dbt(["run", "-s", "stg_control__tenants", "mart_stock_levels", "mart_customer_lifetime"],
        p["next_day_db"], root / "target-next-day", variables=next_day, reread="none")  # fmt: skip
    shutil.copytree(p["incremental_db"].parent, p["new_default_db"].parent)
    write_tenants(p["new_default_db"].parent / "control" / "tenants.parquet", NEW_DEFAULT_SETTINGS)
    # The tenants file is resolved when the project is parsed, and the tenants view names it:
    # a project parsed for the copy, and the view rebuilt, read the copy's own file.
    Dbt(p["lake"])(["run", "-s", "stg_control__tenants", "mart_stock_levels"],
                   p["new_default_db"], root / "target-new-default", reread="none")  # fmt: skip
    dbt(["run", "--full-refresh"], p["full_db"], root / "target-full")
    # A build bounded by the raw watermark taken before the changes sees none of them.
    bounded = {**DBT_VARS, "raw_watermark": before_changes.isoformat() + "+00:00"}
    dbt(["run", "-s", *(f"+{fact}" for fact in BOUNDED_FACTS)], p["bounded_db"],
        root / "target-bounded", variables=bounded)  # fmt: skip
    summary = {"first_run_refunds": first_run_refunds, "touched": touched,
               "before_changes": before_changes.isoformat(),
               "first_sold_units": first_sales, "default_minimum": default_minimum}  # fmt: skip
    p["summary"].write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
