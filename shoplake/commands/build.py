"""``shoplake build`` and ``shoplake dagster``: run the warehouse build, or open Dagster's UI.

Both use the Dagster instance under ``<var_dir>/dagster``, so a CLI build shows in the UI's run
history, and both builds take the same lock, so they never overlap. Pipelines are imported only
when a command runs: loading the dbt project takes seconds the other commands should not pay.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import click

from shoplake.commands.common import settings_of


@click.command("build")
@click.option("--full-refresh", is_flag=True, help="Rebuild every model from scratch.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the published manifest summary as JSON."
)
@click.pass_context
def build(ctx: click.Context, full_refresh: bool, as_json: bool) -> None:
    """Build the marts with dbt and publish a new snapshot (the Dagster job, without the UI)."""
    from pipelines.build import BuildFailed, run_build
    from pipelines.lib.lock import BuildBusy

    settings = settings_of(ctx)
    try:
        result = run_build(settings, full_refresh=full_refresh)
    except (BuildFailed, BuildBusy) as exc:
        raise click.ClickException(str(exc)) from None
    manifest = result.snapshot.manifest
    summary = {
        "run_id": result.run_id,
        "build_id": result.snapshot.build_id,
        "watermark": manifest["watermark"],
        "rows": {name: entry["rows"] for name, entry in manifest["marts"].items()},
        "checks_passed": result.checks_passed,
        "checks_failed": result.checks_failed,
    }
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"published {summary['build_id']} (watermark {summary['watermark']})")
    for name, rows in summary["rows"].items():
        click.echo(f"  {name:<32} {rows:>12,} rows")
    click.echo(f"checks: {result.checks_passed} passed, {len(result.checks_failed)} failed")
    for check in result.checks_failed:
        click.echo(f"  failed: {check}")


@click.command("dagster")
@click.option("--port", default=3000, show_default=True, help="Port of the Dagster UI.")
@click.pass_context
def dagster_ui(ctx: click.Context, port: int) -> None:
    """Open the Dagster UI (and its scheduler daemon) on 127.0.0.1; stop it with Ctrl-C."""
    from pipelines.lib.instance import dagster_home
    from pipelines.lib.resources import settings_environ

    settings = settings_of(ctx)
    env = {**os.environ, **settings_environ(settings), "DAGSTER_HOME": str(dagster_home(settings))}
    args = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "pipelines.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    # exec, so Ctrl-C (SIGINT) reaches `dagster dev` itself and it stops its children cleanly;
    # a shell starting us in the background ignores SIGINT, which exec would carry over.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execve(sys.executable, args, env)
