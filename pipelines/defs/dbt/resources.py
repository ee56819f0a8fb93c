"""The dbt CLI resource, pointed at the one dbt project, without dagster-dbt's per-call probes.

Before every `dbt` call, dagster-dbt's resource runs ``dbt --version`` in a child process to learn
which engine it drives, and opens a dbt adapter in this process for metadata helpers (row counts,
column schemas) the build never asks for. Together that is 3-7 s of every build, whatever it has
to do (BENCHMARKS.md, the build's fixed cost). The dbt here is always dbt-core from this
environment, so its version is read from the installed package instead, and no adapter is opened.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from dagster_dbt import DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION

from pipelines.defs.dbt.assets import PROJECT


class ShoplakeDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource for this environment's dbt-core."""

    @cached_property
    def _cli_version(self) -> Any:
        if DBT_PYTHON_VERSION is None:
            raise RuntimeError("dbt-core is not installed in this environment (make install)")
        return DBT_PYTHON_VERSION

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        # Only `fetch_row_counts` and `fetch_column_metadata` use the adapter; the build uses
        # neither, and an adapter handle costs ~2.7 s of loading the project and its macros.
        return None


def resources() -> dict[str, DbtCliResource]:
    """Return the resources the dbt assets use."""
    return {"dbt": ShoplakeDbtResource(project_dir=PROJECT)}
