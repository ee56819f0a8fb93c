"""The one Dagster entry point: ``dagster dev -m pipelines.definitions`` (or `make dagster`).

Every area under ``pipelines/defs/`` contributes its assets, checks, schedules, sensors and
resources here, bound to one set of shoplake settings (the environment's, unless a caller such
as `shoplake build` or a test passes its own).
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.build import resources as build_resources
from pipelines.defs.build.jobs import warehouse_build
from pipelines.defs.build.schedules import schedules
from pipelines.defs.build.sensors import raw_data_sensor
from pipelines.defs.control.assets import control_tenants
from pipelines.defs.dbt import resources as dbt_resources
from pipelines.defs.dbt.assets import warehouse_dbt
from pipelines.defs.lake.assets import raw_zone
from pipelines.defs.publish.assets import fact_rows_match_raw, marts_snapshot, snapshot_is_fresh
from warehouse.config import Settings, load_settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Gather every area's definitions; ``settings`` None means the process environment."""
    return dg.Definitions(
        assets=[control_tenants, raw_zone, warehouse_dbt, marts_snapshot],
        asset_checks=[snapshot_is_fresh, fact_rows_match_raw],
        jobs=[warehouse_build],
        schedules=schedules(settings or load_settings()),
        sensors=[raw_data_sensor],
        resources={**build_resources.resources(settings), **dbt_resources.resources()},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
