"""`shoplake build`: the warehouse build job, run in this process without the Dagster UI.

It is the same job the sensor and the schedule start, recorded in the same instance, and it
takes the same build lock, so a CLI build and a Dagster build never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster import DagsterInstance

from pipelines.definitions import build_definitions
from pipelines.defs.build.jobs import BUILD_JOB, build_run_config
from pipelines.lib.instance import dagster_instance
from warehouse.config import Settings
from warehouse.publish import Snapshot, current_snapshot


class BuildFailed(RuntimeError):
    """The build job failed; the previous snapshot stays CURRENT."""


@dataclass(frozen=True)
class BuildResult:
    """The run that built, the snapshot it published, and how its checks went."""

    run_id: str
    snapshot: Snapshot
    checks_passed: int
    checks_failed: list[str]


def run_build(
    settings: Settings,
    full_refresh: bool = False,
    *,
    dbt_vars: dict[str, str] | None = None,
    instance: DagsterInstance | None = None,
) -> BuildResult:
    """Run the warehouse build job in-process and return the snapshot it published."""
    job = build_definitions(settings).resolve_job_def(BUILD_JOB)
    result = job.execute_in_process(
        run_config=build_run_config(full_refresh, dbt_vars),
        instance=instance or dagster_instance(settings),
        tags={"shoplake/trigger": "cli"},
        raise_on_error=False,
    )
    if not result.success:
        raise BuildFailed(_failure(result))
    evaluations = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed = sorted(e.asset_check_key.to_user_string() for e in evaluations if not e.passed)
    return BuildResult(
        result.run_id, current_snapshot(settings.var_dir), len(evaluations) - len(failed), failed
    )


def _failure(result) -> str:
    # The first step failure, or a resource that failed to start (the build lock, typically).
    for event in result.all_events:
        failed = event.is_step_failure or event.event_type_value == "RESOURCE_INIT_FAILURE"
        error = getattr(event.event_specific_data, "error", None)
        if failed and error is not None:
            where = f"step {event.step_key}" if event.step_key else "resources"
            return f"{where} failed: {error.message.strip()}"
    return f"run {result.run_id} failed"
