"""Start an incremental build when new raw data has landed (debounced; see lib/trigger.py)."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from pipelines.defs.build.jobs import BUILD_JOB, build_run_config, warehouse_build
from pipelines.lib.rawzone import raw_watermark
from pipelines.lib.resources import ShoplakeResource
from pipelines.lib.trigger import decide, read_cursor, write_cursor
from warehouse.publish import NoSnapshot, current_snapshot

ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def published_watermark(var_dir) -> datetime | None:
    """Return the watermark of the current snapshot (None before the first publish)."""
    try:
        return current_snapshot(var_dir).watermark
    except NoSnapshot:
        return None


@dg.sensor(
    job=warehouse_build,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Incremental build when raw data newer than the published snapshot lands.",
)
def raw_data_sensor(
    context: dg.SensorEvaluationContext, shoplake: ShoplakeResource
) -> dg.RunRequest | dg.SkipReason:
    """Request a build when the raw zone is ahead of the published snapshot."""
    settings = shoplake.settings()
    now = datetime.now(UTC)
    active = context.instance.get_run_records(
        dg.RunsFilter(job_name=BUILD_JOB, statuses=ACTIVE), limit=1
    )
    decision = decide(
        raw=raw_watermark(settings.lake_root),
        published=published_watermark(settings.var_dir),
        last_request=read_cursor(context.cursor),
        now=now,
        min_interval=timedelta(seconds=settings.build_min_interval_seconds),
        build_active=bool(active),
    )
    if not decision.build:
        return dg.SkipReason(decision.reason)
    context.update_cursor(write_cursor(now))
    return dg.RunRequest(run_config=build_run_config(), tags={"shoplake/trigger": "raw_data"})
