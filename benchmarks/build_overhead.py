"""The fixed cost of a build: an incremental build with nothing new, and its dbt call alone.

An incremental build's target (issue 4) is 30 s; part of every build costs the same whatever
landed. This runs, on a warehouse that ``benchmarks/build.py --var-dir DIR`` left built:

* ``--runs`` incremental builds with no new raw data (the whole job: compaction, dbt, publish,
  checks), with each step's seconds;
* the same ``dbt build`` the last of them ran, called directly (no Dagster), ``--runs`` times,
  and dbt's own elapsed time from ``run_results.json``.

The difference between the job's dbt step and the direct call is what Dagster adds around dbt
(events per node); dbt's start-up is the direct call less dbt's own elapsed time.

Run: ``uv run python benchmarks/build_overhead.py --var-dir benchmarks/out/build-large-0.01``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.build import dbt_run_results, step_seconds  # noqa: E402
from pipelines.build import run_build  # noqa: E402
from pipelines.lib.buildplan import dbt_plan  # noqa: E402
from pipelines.lib.buildstate import read_state  # noqa: E402
from pipelines.lib.dbt import dbt_environment, dbt_project, target_dir  # noqa: E402
from pipelines.lib.rawzone import raw_watermark  # noqa: E402
from warehouse.config import load_settings  # noqa: E402


def job_runs(settings, runs: int) -> list[dict]:
    """Run ``runs`` incremental builds with nothing new; return wall and step seconds of each."""
    figures = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run_build(settings)
        figures.append(
            {
                "wall_s": round(time.perf_counter() - started, 2),
                "steps_s": step_seconds(settings, result.run_id),
                "dbt_elapsed_s": dbt_elapsed(settings),
            }
        )
    return figures


def direct_runs(settings, runs: int) -> list[dict]:
    """Call the last build's ``dbt build`` directly ``runs`` times; return wall and dbt's time."""
    folder = settings.warehouse_file.resolve().parent
    plan = dbt_plan(False, False, {}, read_state(folder), raw_watermark(settings.lake_root))
    project = dbt_project()
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *plan.args,
        "--project-dir",
        str(project.project_dir),
        "--profiles-dir",
        str(project.profiles_dir),
        "--target-path",
        str(target_dir(settings)),
        "--quiet",
    ]
    figures = []
    for _ in range(runs):
        with dbt_environment(settings, plan.environ):
            started = time.perf_counter()
            subprocess.run(command, check=True, env=dict(os.environ))
            wall = time.perf_counter() - started
        figures.append({"wall_s": round(wall, 2), "dbt_elapsed_s": dbt_elapsed(settings)})
    return figures


def dbt_elapsed(settings) -> float:
    """Return dbt's own elapsed seconds of its last run, and nothing of its start-up."""
    return round(dbt_run_results(settings)["elapsed_time"], 2)


def main() -> None:
    """Parse arguments, run both measurements, print them (lines and JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, required=True, help="a built benchmark var dir")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    settings = load_settings({"var_dir": args.var_dir, "env": "development"}, environ={})
    report = {
        "job": job_runs(settings, args.runs),
        "dbt_direct": direct_runs(settings, args.runs),
    }
    for name, runs in report.items():
        for run in runs:
            print(f"{name:<11} {json.dumps(run)}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
