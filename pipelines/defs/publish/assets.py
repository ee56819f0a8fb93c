"""The published snapshot of every mart, and the checks that it is fresh and complete.

Publishing is the last build step: it exports the marts dbt just built into an immutable,
tenant-partitioned Parquet snapshot and switches CURRENT, which is all the serving layer reads.
"""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from pipelines.defs.dbt.assets import PROJECT
from pipelines.lib.buildstate import BuildState, built_state
from pipelines.lib.dbt import published_marts
from pipelines.lib.rawzone import raw_watermark, row_count_mismatches
from pipelines.lib.rereads import tail_start
from pipelines.lib.resources import BuildLockResource, ShoplakeResource
from warehouse.publish import NoSnapshot, Retention, current_snapshot, publish

MARTS = published_marts(json.loads(PROJECT.manifest_path.read_text()))
SNAPSHOT = dg.AssetKey("marts_snapshot")


@dg.asset(
    key=SNAPSHOT,
    deps=[dg.AssetKey(spec.name) for spec in MARTS],
    group_name="serving",
    kinds={"parquet"},
)
def marts_snapshot(
    context: dg.AssetExecutionContext, shoplake: ShoplakeResource, build_lock: BuildLockResource
) -> dg.MaterializeResult:
    """Every mart as tenant-partitioned Parquet plus manifest; CURRENT switched atomically."""
    settings = shoplake.settings()
    state = built_state(settings.warehouse_file.resolve().parent)
    retention = Retention(settings.snapshots_keep, settings.snapshot_grace_seconds)
    info = {
        "run_id": context.run.run_id,
        "dbt_run_id": state.run_id,
        "full_refresh": state.full_refresh,
    }
    snapshot = publish(
        settings.warehouse_file.resolve(),
        settings.var_dir,
        marts=MARTS,
        watermark=state.watermark,
        tail_from=tail_start(state),
        retention=retention,
        info=info,
        reuse=not state.full_refresh,
        trusted_invocation=trusted_invocation(state, settings.var_dir),
    )
    rows = {name: entry["rows"] for name, entry in snapshot.manifest["marts"].items()}
    return dg.MaterializeResult(
        metadata={
            "build_id": snapshot.build_id,
            "watermark": snapshot.manifest["watermark"] or "",
            "path": dg.MetadataValue.path(str(snapshot.path)),
            "rows": dg.MetadataValue.json(rows),
            "reused_files": snapshot.manifest["reused_files"],
        }
    )


def trusted_invocation(state: BuildState, var_dir) -> str | None:
    """Return the dbt invocation whose change markers publish may trust, if any.

    Only when the current snapshot was published from the very build this one followed: then
    a mart this build's dbt run changed nothing in is what that snapshot holds. A full
    refresh, a build after a failed or partial one, or a snapshot from an older build (its
    publish failed since) trusts nothing, and every mart is fingerprinted as before.
    """
    if state.full_refresh or state.previous_run_id is None or state.dbt_invocation_id is None:
        return None
    try:
        previous = current_snapshot(var_dir)
    except NoSnapshot:
        return None
    if previous.manifest.get("build", {}).get("dbt_run_id") != state.previous_run_id:
        return None
    return state.dbt_invocation_id


@dg.asset_check(asset=SNAPSHOT, name="snapshot_is_fresh")
def snapshot_is_fresh(shoplake: ShoplakeResource) -> dg.AssetCheckResult:
    """CURRENT exists and is younger than SHOPLAKE_SNAPSHOT_MAX_AGE_MINUTES."""
    settings = shoplake.settings()
    try:
        snapshot = current_snapshot(settings.var_dir)
    except NoSnapshot as exc:
        return dg.AssetCheckResult(passed=False, metadata={"error": str(exc)})
    age = datetime.now(UTC) - snapshot.created_at
    newest = raw_watermark(settings.lake_root)
    behind = newest - snapshot.watermark if newest and snapshot.watermark else timedelta(0)
    return dg.AssetCheckResult(
        passed=age <= timedelta(minutes=settings.snapshot_max_age_minutes),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "build_id": snapshot.build_id,
            "age_minutes": round(age.total_seconds() / 60, 1),
            "raw_data_behind_minutes": round(behind.total_seconds() / 60, 1),
        },
    )


@dg.asset_check(asset=SNAPSHOT, name="fact_rows_match_raw")
def fact_rows_match_raw(shoplake: ShoplakeResource) -> dg.AssetCheckResult:
    """Each tenant's fact rows equal its live raw records up to the snapshot's watermark."""
    settings = shoplake.settings()
    snapshot = current_snapshot(settings.var_dir)
    mismatches = row_count_mismatches(snapshot, settings.lake_root)
    return dg.AssetCheckResult(
        passed=not mismatches,
        metadata={"build_id": snapshot.build_id, "mismatches": dg.MetadataValue.json(mismatches)},
    )
