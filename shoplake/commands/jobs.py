"""``shoplake jobs run``: a dedicated worker for background jobs (bulk image uploads ...).

API processes run jobs in their own thread pool by default (``jobs_runner=thread``); with
``SHOPLAKE_JOBS_RUNNER=external`` they only enqueue, and one or more of these workers - on any
machine that reaches the same control DB and media storage - run them. Workers also take over
jobs whose worker died (stale heartbeat). SIGTERM or Ctrl-C stops after the current job.
"""

from __future__ import annotations

import signal
import threading

import click

from shoplake.commands.common import settings_of
from warehouse.controldb import make_engine, make_session_factory
from warehouse.jobs.runner import run_pending


@click.group("jobs")
def jobs_group() -> None:
    """Run background jobs outside the API processes."""


@jobs_group.command("run")
@click.option("--once", is_flag=True, help="Run every job waiting now, then exit.")
@click.option(
    "--poll-seconds",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="How often to look for new jobs when idle.",
)
@click.pass_context
def run_jobs(ctx: click.Context, once: bool, poll_seconds: float) -> None:
    """Run queued jobs (and abandoned ones) until stopped."""
    settings = settings_of(ctx)
    engine = make_engine(settings.control_db_url)
    sessions = make_session_factory(engine)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    total = 0
    try:
        while not stop.is_set():
            ran = run_pending(settings, sessions, limit=1)  # one at a time: stop is checked
            total += ran
            if ran:
                continue
            if once:
                break
            stop.wait(poll_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()
    click.echo(f"Ran {total} job(s).")
