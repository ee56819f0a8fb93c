"""The dbt project's models as assets; one `dbt build` runs them and their tests (checks).

Facts are incremental by default; ``full_refresh: true`` in the run config rebuilds everything
and must give identical marts. The raw watermark taken here (newest ``_ingested_at`` when the
build starts) goes to dbt as SHOPLAKE_RAW_WATERMARK; dbt reads no raw row newer than it, so the
snapshot's manifest says exactly which raw data it includes. What else a build tells dbt, and
which tests it runs: pipelines/lib/buildplan.py.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.lib.buildplan import dbt_plan
from pipelines.lib.buildstate import BUILDING, BUILT, read_state, write_state
from pipelines.lib.dbt import dbt_environment, dbt_project, target_dir
from pipelines.lib.dbt_tests import dbt_test_checks, model_events
from pipelines.lib.rawzone import raw_watermark
from pipelines.lib.rereads import oldest_pending
from pipelines.lib.resources import BuildLockResource, ShoplakeResource
from pipelines.lib.translator import ShoplakeTranslator

PROJECT = dbt_project()
TRANSLATOR = ShoplakeTranslator()
PARTIAL = "partial"


class DbtBuildConfig(dg.Config):
    """How to run dbt: incrementally (default) or from scratch, plus extra project vars.

    An incremental build tests only what it changed unless ``all_tests`` (the schedule's
    builds set it, so everything is tested at least that often).
    """

    full_refresh: bool = False
    all_tests: bool = False
    vars: dict[str, str] = {}


@dbt_assets(
    manifest=PROJECT.manifest_path,
    project=PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    name="warehouse_dbt",
)
def warehouse_dbt(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    shoplake: ShoplakeResource,
    build_lock: BuildLockResource,
) -> Iterator[Any]:
    """Build staging, intermediate and mart models and run their tests."""
    settings = shoplake.settings()
    folder = settings.warehouse_file.resolve().parent
    # The watermark first: a batch stamped before it but not yet visible is pending after it.
    watermark = raw_watermark(settings.lake_root)
    pending = oldest_pending(settings.lake_root, watermark, datetime.now(UTC))
    previous = read_state(folder)
    plan = dbt_plan(config.full_refresh, config.all_tests, config.vars, previous, watermark)
    after = previous.run_id if previous is not None and previous.status == BUILT else None
    run_id = context.run.run_id
    write_state(folder, BUILDING, run_id, config.full_refresh, watermark, pending, after)
    target = target_dir(settings)
    (target / "run_results.json").unlink(missing_ok=True)  # a crashed dbt leaves none of its own
    with dbt_environment(settings, plan.environ):
        # The op context: given the asset context, dagster-dbt calls a deprecated accessor.
        invocation = dbt.cli(
            plan.args,
            context=context.op_execution_context,
            target_path=target,
            raise_on_error=False,
        )
    # Models' outputs as they finish; each test's result is gathered into its model's check.
    yield from model_events(invocation)
    results = None
    if (target / "run_results.json").exists():
        results = invocation.get_artifact("run_results.json")
        yield from dbt_test_checks(
            results,
            invocation.manifest,
            TRANSLATOR,
            PROJECT,
            context.selected_asset_check_keys,
        )
    error = invocation.get_error()
    if error is not None:
        raise error
    # A subset run leaves other models at an older watermark: publishable only after a full one.
    whole = set(context.selected_asset_keys) == set(warehouse_dbt.keys)
    status = BUILT if whole else PARTIAL
    invocation_id = (results or {}).get("metadata", {}).get("invocation_id")
    write_state(
        folder, status, run_id, config.full_refresh, watermark, pending, after, invocation_id
    )
