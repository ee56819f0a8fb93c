"""The raw zone, compacted before each build so dbt reads few, sorted files."""

import dagster as dg

from pipelines.lib.rawzone import raw_watermark
from pipelines.lib.rereads import CLAIM_GRACE
from pipelines.lib.resources import BuildLockResource, ShoplakeResource
from pipelines.lib.translator import RAW_ZONE
from warehouse.entities.sources import current_state_entities
from warehouse.lake.compaction import compact


@dg.asset(
    key=RAW_ZONE,
    group_name="inputs",
    kinds={"parquet"},
    # A compaction started outside a build (shoplake compact) holds the lake lock briefly.
    retry_policy=dg.RetryPolicy(max_retries=3, delay=10),
)
def raw_zone(shoplake: ShoplakeResource, build_lock: BuildLockResource) -> dg.MaterializeResult:
    """Landed batches, merged per entity, tenant and day, with current state refreshed."""
    settings = shoplake.settings()
    # The snapshot this build publishes reads its tail from CLAIM_GRACE before a watermark no
    # older than this one: files landed since stay small, so that tail skips the merged files.
    before = raw_watermark(settings.lake_root)
    keep = before - CLAIM_GRACE if before is not None else None
    report = compact(
        settings.lake_root,
        keep_newer_than=keep,
        current_entities=current_state_entities(settings.var_dir),
    )
    newest = raw_watermark(settings.lake_root)
    return dg.MaterializeResult(
        metadata={
            "partitions_compacted": len(report.partitions),
            "files_merged": sum(p["inputs"] for p in report.partitions),
            "current_state_tables": len(report.current),
            "skipped_pending_batches": report.skipped_pending,
            "kept_recent_files": report.skipped_recent,
            "raw_watermark": newest.isoformat() if newest else "",
        }
    )
