"""``shoplake init`` and ``shoplake serve``: prepare ``var/`` and run the API under gunicorn."""

from __future__ import annotations

import ctypes
import gc
import os
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from shoplake.commands.common import settings_of
from warehouse.config import Settings
from warehouse.controldb import is_current, upgrade
from warehouse.logs import JsonFormatter


def initialise(settings: Settings) -> None:
    """Create ``var/`` and migrate the control DB to the latest revision (idempotent)."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.control_db_url)


M_ARENA_MAX = -8  # glibc's mallopt() parameter number (malloc.h)


def bound_allocators() -> None:
    """Keep each worker's memory near what it uses while it streams chunk after chunk.

    Arrow's default allocator (mimalloc) held on to ~90 MB per worker that a stream of
    chunk-sized allocations never gave back; glibc's malloc, with one arena and trimmed after
    every request (``release_unused``), stays within tens of MB of idle at the same speed (see
    BENCHMARKS.md, ingest). One arena, not one per thread: a chunk's buffers are freed by the
    landing thread after the request thread made them, and memory freed into a second arena
    was not reused by the first (peak 17 MB higher with two, no faster). Arrow reads the
    variable once, when its C++ default pool is first used, so this runs before anything
    imports pyarrow; an operator's own choice wins.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the C library this process uses
    if mallopt is not None:  # glibc only; elsewhere the C library's own defaults stay
        mallopt(M_ARENA_MAX, 1)


class JsonLogger(Logger):
    """Gunicorn's own messages (boot, workers) as JSON lines, like everything else."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.setFormatter(JsonFormatter())


def _after_fork(_server: Any, worker: Any) -> None:
    # The app is built once in the master and shared copy-on-write; a DB pool must never be
    # shared across processes, so each worker starts with an empty one.
    worker.app.wsgi().extensions["shoplake.engine"].dispose(close=False)


class ApiServer(BaseApplication):
    """Gunicorn, configured in code; the app is loaded once and forked into the workers."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25 opens a control socket at one fixed per-user path, which two
            # instances on one machine would fight over; we do not use it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        from serving import create_app  # after bound_allocators(): it imports pyarrow

        app = create_app(self.settings)
        # Move everything built so far out of the collector's reach: a worker's collections
        # would otherwise write to every inherited object and un-share the master's pages.
        gc.collect()
        gc.freeze()
        return app


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """Return gunicorn's settings for our settings (bind address, workers, logging)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return {
        "bind": f"{host}:{settings.port}",
        "workers": settings.workers,
        "logger_class": JsonLogger,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,  # the app logs one JSON line per request itself
        "proc_name": "shoplake",
        "timeout": 120,  # large ingest bodies stream for a while
        "graceful_timeout": 30,
        # Loading before fork shares the imported libraries' pages between workers.
        "preload_app": True,
        "post_fork": _after_fork,
    }


def serve_api(settings: Settings) -> None:
    """Run the API until interrupted; refuse to start on an unmigrated control DB."""
    if not is_current(settings.control_db_url):
        raise click.ClickException(
            "The control DB is missing or not migrated to the latest version; "
            "run `shoplake init` first."
        )
    click.echo(
        f"Serving on http://{settings.host}:{settings.port}/ "
        f"(API docs: /api/v1/docs) with {settings.workers} worker(s).",
        err=True,
    )
    bound_allocators()
    ApiServer(settings, gunicorn_options(settings)).run()


@click.command("init")
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create var/ and create or migrate the control database."""
    settings = settings_of(ctx)
    initialise(settings)
    click.echo(f"Initialised {settings.var_dir} (control DB migrated to the latest version).")


@click.command("serve")
@click.option("--host", help="Address to bind (default: SHOPLAKE_HOST).")
@click.option("--port", type=int, help="Port to bind (default: SHOPLAKE_PORT).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (SHOPLAKE_WORKERS).")
@click.pass_context
def serve(ctx: click.Context, **overrides: Any) -> None:
    """Serve the HTTP API with gunicorn until interrupted (Ctrl-C)."""
    chosen = {name: value for name, value in overrides.items() if value is not None}
    serve_api(settings_of(ctx).replace(**chosen))
