"""Resources every build asset shares: shoplake's settings, and the build lock held per run.

Settings travel as ``SHOPLAKE_*`` variables (strings) so a resource is plain Dagster config:
empty means "the process environment", which is what `dagster dev` and the daemon use, and
:func:`settings_environ` pins a given :class:`Settings` for in-process runs and tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.lib.lock import build_lock
from warehouse.config import SETTINGS, Settings, load_settings


def settings_environ(settings: Settings) -> dict[str, str]:
    """Render settings as the ``SHOPLAKE_*`` variables that load them back unchanged."""
    rendered = {}
    for setting in SETTINGS:
        value = settings.values.get(setting.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, Path):
            value = value.resolve()
        rendered[setting.env_var] = str(value)
    return rendered


class ShoplakeResource(dg.ConfigurableResource):
    """Shoplake settings: the process environment, overridden by ``environ``."""

    environ: dict[str, str] = {}

    def settings(self) -> Settings:
        """Return the resolved settings."""
        return load_settings(environ={**os.environ, **self.environ})


class BuildLockResource(ShoplakeResource):
    """Holds the warehouse build lock for the whole run (build runs execute in one process)."""

    # Its own copy of the settings rather than a nested resource: Dagster's nested-resource
    # path calls a deprecated API on every run.

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Any]:
        settings = self.settings()
        owner = f"dagster run {context.run.run_id}" if context.run else "dagster"
        with build_lock(settings.warehouse_file.parent, settings.build_lock_wait_seconds, owner):
            yield self
