"""Settings and the build lock, bound to one set of shoplake settings."""

from __future__ import annotations

from pipelines.lib.resources import BuildLockResource, ShoplakeResource, settings_environ
from warehouse.config import Settings


def resources(settings: Settings | None = None) -> dict[str, object]:
    """Return the shared resources; None reads settings from the process environment."""
    environ = settings_environ(settings) if settings else {}
    return {
        "shoplake": ShoplakeResource(environ=environ),
        "build_lock": BuildLockResource(environ=environ),
    }
