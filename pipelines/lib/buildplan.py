"""The arguments and environment of one build's `dbt build`, from its config and the last build.

The arguments stay the same build after build (dbt's partial parsing survives); what changes
every build travels as environment variables the project reads only while models run:

* SHOPLAKE_RAW_WATERMARK: no raw row newer than this is read (the snapshot's watermark);
* SHOPLAKE_REREAD_FROM: what incremental models read again before their watermarks
  (pipelines/lib/rereads.py);
* SHOPLAKE_TESTS_SINCE: an incremental build after a completed one tests the rows it wrote
  (landed after the previous build's watermark) and leaves out tests tagged ``whole_table``
  (dbt_project/macros/tests/scope.sql) and dbt's unit tests, which check the models' SQL on
  fixed rows and so cannot fail on new data. Full-refresh builds, builds with ``all_tests`` (the
  schedule's) and builds after a failed one test everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pipelines.lib.buildstate import BUILT, BuildState
from pipelines.lib.rereads import reread_from

# Left out of scoped builds: one selector string (a space is a union), as dbt takes one value.
SCOPED_EXCLUDE = "tag:whole_table resource_type:unit_test"


@dataclass(frozen=True)
class DbtPlan:
    """How to call dbt for one build."""

    args: list[str]
    environ: dict[str, str] = field(default_factory=dict)

    @property
    def tests_scoped(self) -> bool:
        """Whether this build tests only what it changed."""
        return bool(self.environ.get("SHOPLAKE_TESTS_SINCE"))


def dbt_plan(
    full_refresh: bool,
    all_tests: bool,
    variables: Mapping[str, str],
    previous: BuildState | None,
    watermark: datetime | None,
) -> DbtPlan:
    """Return the `dbt build` call of a build (see the module docstring)."""
    scoped = not (full_refresh or all_tests) and previous is not None
    scoped = scoped and previous.status == BUILT and previous.watermark is not None
    args = ["build"]
    if variables:
        args += ["--vars", json.dumps(dict(variables), sort_keys=True)]
    if full_refresh:
        args.append("--full-refresh")
    if scoped:
        args += ["--exclude", SCOPED_EXCLUDE]
    environ = {
        "SHOPLAKE_RAW_WATERMARK": _iso(watermark),
        "SHOPLAKE_REREAD_FROM": reread_from(previous),
        "SHOPLAKE_TESTS_SINCE": _iso(previous.watermark) if scoped else "",
    }
    return DbtPlan(args, environ)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
