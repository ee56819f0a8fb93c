"""A floor under the sensor: an incremental build at least every SHOPLAKE_BUILD_SCHEDULE.

Its builds run every data test (``all_tests``); sensor builds test only what they changed.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.build.jobs import build_run_config, warehouse_build
from warehouse.config import Settings


def schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    """Return the build schedules for these settings."""
    floor = dg.ScheduleDefinition(
        name="warehouse_build_floor",
        cron_schedule=settings.build_schedule,
        execution_timezone="UTC",
        job=warehouse_build,
        run_config=build_run_config(all_tests=True),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Incremental build, testing everything, even when the sensor saw nothing.",
    )
    return [floor]
