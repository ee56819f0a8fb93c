"""The dbt project as Dagster sees it: where it lives, its manifest, and how a build calls it.

The manifest is parsed when missing or older than any project file, so `dagster dev`,
`shoplake build` and the tests always load the graph of the models on disk. Builds use their own
target folder beside the build database (one build at a time, so it is safe to reuse, and
dbt's partial parsing then skips unchanged files), and get the lake and database paths as
absolute ``SHOPLAKE_*`` variables for the duration of the dbt call. Values that change with every
build (the raw watermark) travel as environment variables read only when models run, never as
``--vars``: changed vars make dbt re-parse the whole project (~5 s), env vars read at run time
leave partial parsing intact.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from warehouse.config import Settings
from warehouse.controlplane.export import tenants_file
from warehouse.publish import MartSpec
from warehouse.publish.spans import quote

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
_GENERATED = {"target", "logs", "dbt_packages"}
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dbt_project() -> DbtProject:
    """Return the project, with a manifest that matches the files on disk."""
    project = DbtProject(project_dir=PROJECT_DIR)
    if _manifest_is_stale(project):
        project.preparer.prepare(project)
    return project


def _manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _project_files(project.project_dir))


def _project_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [d for d in dirs if d not in _GENERATED and not d.startswith(".")]
        for name in files:
            if name.endswith((".sql", ".yml", ".yaml", ".csv", ".md")):
                yield Path(folder) / name


def target_dir(settings: Settings) -> Path:
    """Return the dbt target folder of builds writing this settings' build database."""
    return settings.warehouse_file.resolve().parent / "dbt-target"


def dbt_environ(settings: Settings) -> dict[str, str]:
    """Return the variables the dbt project reads its paths from (absolute)."""
    build_db = settings.warehouse_file.resolve()
    return {
        "SHOPLAKE_WAREHOUSE_PATH": str(build_db),
        "SHOPLAKE_LAKE_DIR": str(settings.lake_root.resolve()),
        "SHOPLAKE_TENANTS_FILE": str(tenants_file(build_db.parent)),
    }


@contextmanager
def dbt_environment(settings: Settings, extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set the dbt path variables (and ``extra`` ones) for a block, then restore what was there."""
    wanted = {**dbt_environ(settings), **(extra or {})}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def published_marts(manifest: Mapping[str, Any]) -> list[MartSpec]:
    """Return the models marked ``meta.publish`` as marts to publish, keyed as dbt declares.

    A model's ``meta.period_column`` (a date or timestamp column) splits each tenant's rows into
    one file per ``meta.period`` (month, the default, or year) of it: for marts that grow at
    the recent end, so that new data rewrites the current period's file and links the others.
    An ``apply_changes`` model names the marker its runs leave (``<table>__changed``) and its
    change log (``<table>__changes``), which publish may use to read only what changed.
    """
    specs = []
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if node["resource_type"] != "model" or not config.get("meta", {}).get("publish"):
            continue
        name = node.get("alias") or node["name"]
        relation = f"{quote(node['schema'])}.{quote(name)}"
        meta = config.get("meta", {})
        column = meta.get("period_column")
        if column is not None and not _COLUMN.match(str(column)):
            raise ValueError(f"model {name!r}: meta.period_column {column!r} is not a column name")
        period = meta.get("period", "month")
        marker = log = None
        if config.get("incremental_strategy") == "apply_changes":  # macros/incremental.sql
            marker = f"{quote(node['schema'])}.{quote(name + '__changed')}"
            log = f"{quote(node['schema'])}.{quote(name + '__changes')}"
        specs.append(MartSpec(name, relation, mart_key(config), column, period, marker, log))
    return sorted(specs, key=lambda spec: spec.name)


def mart_key(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Return a model's key: ``meta.key``, else its incremental ``unique_key``, else none.

    Only plain column names count; a key given as an SQL expression sorts by nothing extra
    (publish still sorts by every column, so the output stays deterministic).
    """
    key = config.get("meta", {}).get("key") or config.get("unique_key") or ()
    columns = (key,) if isinstance(key, str) else tuple(key)
    return columns if all(_COLUMN.match(c) for c in columns) else ()
