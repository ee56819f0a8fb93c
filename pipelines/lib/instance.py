"""The Dagster instance shoplake uses: state under ``<var_dir>/dagster``, config from the repo.

Dagster reads ``$DAGSTER_HOME/dagster.yaml`` and needs DAGSTER_HOME absolute. The repository's
``dagster.yaml`` is linked into the home folder, so edits to it apply without a copy step.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance

from warehouse.config import Settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / "dagster.yaml"


def dagster_home(settings: Settings) -> Path:
    """Create (if needed) and return the absolute DAGSTER_HOME for these settings."""
    home = (settings.var_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    link = home / "dagster.yaml"
    if not link.is_symlink() or link.resolve() != REPO_CONFIG:
        link.unlink(missing_ok=True)
        os.symlink(REPO_CONFIG, link)
    return home


def dagster_instance(settings: Settings) -> DagsterInstance:
    """Return the persistent instance under ``<var_dir>/dagster`` (runs show in the UI)."""
    return DagsterInstance.from_config(str(dagster_home(settings)))
