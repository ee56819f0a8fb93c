"""The warehouse build: export tenants, compact the lake, run dbt, publish the snapshot."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.control.assets import control_tenants
from pipelines.defs.dbt.assets import warehouse_dbt
from pipelines.defs.lake.assets import raw_zone
from pipelines.defs.publish.assets import marts_snapshot

BUILD_JOB = "warehouse_build"
# dagster.yaml limits runs carrying this tag to one at a time.
BUILD_TAG = "shoplake/build"
DBT_OP = "warehouse_dbt"

warehouse_build = dg.define_asset_job(
    BUILD_JOB,
    # Every dbt model, not only those upstream of a mart: staging views are queried too.
    selection=dg.AssetSelection.assets(control_tenants, raw_zone, warehouse_dbt, marts_snapshot),
    description="Export tenants, compact the raw zone, build the dbt marts and publish them.",
    # One process for the whole run, so the build lock (a resource) is held from first step
    # to last, and dbt and DuckDB get both cores.
    executor_def=dg.in_process_executor,
    tags={BUILD_TAG: "warehouse"},
)


def build_run_config(
    full_refresh: bool = False, dbt_vars: dict[str, str] | None = None, all_tests: bool = False
) -> dict:
    """Return the run config of an incremental (default) or full-refresh build."""
    config = {"full_refresh": full_refresh, "all_tests": all_tests, "vars": dict(dbt_vars or {})}
    return {"ops": {DBT_OP: {"config": config}}}
