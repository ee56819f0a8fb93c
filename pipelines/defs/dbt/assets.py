"""The dbt project's models as assets; one `dbt build` runs them and their tests (checks).

Facts are incremental by default; ``full_refresh: true`` in the run config rebuilds everything
and must give identical marts. The raw watermark taken here (newest ``_ingested_at`` when the
build starts) goes to dbt as the ``raw_watermark`` var; dbt reads no raw row newer than it, so
the snapshot's manifest says exactly which raw data it includes.
"""

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.lib.buildstate import BUILDING, BUILT, write_state
from pipelines.lib.dbt import dbt_environment, dbt_project, target_dir
from pipelines.lib.rawzone import raw_watermark
from pipelines.lib.resources import BuildLockResource, ShoplakeResource
from pipelines.lib.translator import ShoplakeTranslator

PROJECT = dbt_project()
TRANSLATOR = ShoplakeTranslator()
PARTIAL = "partial"


class DbtBuildConfig(dg.Config):
    """How to run dbt: incrementally (default) or from scratch, plus extra project vars."""

    full_refresh: bool = False
    vars: dict[str, str] = {}


def dbt_build_args(config: DbtBuildConfig, watermark: datetime | None) -> list[str]:
    """Return the `dbt build` arguments for a config and raw watermark."""
    variables: dict[str, Any] = dict(config.vars)
    if watermark is not None:
        variables["raw_watermark"] = watermark.isoformat()
    args = ["build", "--vars", json.dumps(variables, sort_keys=True)]
    return [*args, "--full-refresh"] if config.full_refresh else args


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
    watermark = raw_watermark(settings.lake_root)
    run_id = context.run.run_id
    write_state(folder, BUILDING, run_id, config.full_refresh, watermark)
    with dbt_environment(settings):
        # The op context: given the asset context, dagster-dbt calls a deprecated accessor.
        invocation = dbt.cli(
            dbt_build_args(config, watermark),
            context=context.op_execution_context,
            target_path=target_dir(settings),
        )
    yield from invocation.stream()
    # A subset run leaves other models at an older watermark: publishable only after a full one.
    whole = set(context.selected_asset_keys) == set(warehouse_dbt.keys)
    write_state(folder, BUILT if whole else PARTIAL, run_id, config.full_refresh, watermark)
