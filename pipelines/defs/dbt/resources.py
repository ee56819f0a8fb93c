"""The dbt CLI resource, pointed at the one dbt project."""

from __future__ import annotations

from dagster_dbt import DbtCliResource

from pipelines.defs.dbt.assets import PROJECT


def resources() -> dict[str, DbtCliResource]:
    """Return the resources the dbt assets use."""
    return {"dbt": DbtCliResource(project_dir=PROJECT)}
