"""A warehouse built once per session on the `tiny` preset, served by a fresh app per test.

Mart-backed endpoints need real published marts. Building them takes about a minute, so one
session build (:func:`build_published`) generates the tiny preset into a lake, builds every mart
with the real Dagster job and publishes a snapshot. Each test then gets its own copy of that
``var/`` (a few MB) and its own control DB holding the same tenants under the same ids, so a test
that writes (CRUD, ingestion) never leaks into another test.

Use the ``published`` (session) and ``served`` (per test) fixtures from
``tests/integration/conftest.py``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from flask import Flask

from ingestion.generator import generate, tenant_definitions
from pipelines.build import run_build
from warehouse.config import Settings, load_settings
from warehouse.controldb import make_engine, make_session_factory, transaction
from warehouse.controldb.migrate import upgrade
from warehouse.controlplane import tenants as tenant_service
from warehouse.publish import Snapshot

PRESET = "tiny"
# The build's own control DB, exported to the lake by the build; never served.
_BUILD_CONTROL_DB = "build-control.db"


@dataclass(frozen=True)
class Published:
    """The session build: its ``var/``, the tenants by slug and the snapshot it published."""

    var_dir: Path
    tenant_ids: dict[str, int]
    snapshot: Snapshot
    records: Path  # the same tiny data as NDJSON records, one folder per tenant slug


def build_published(root: Path) -> Published:
    """Generate the tiny preset under ``root`` and build and publish every mart."""
    control = f"sqlite:///{root / _BUILD_CONTROL_DB}"
    upgrade(control)
    settings = load_settings(
        {
            "env": "test",
            "secret_key": "test-secret-key-at-least-32-bytes-long",
            "var_dir": root / "var",
            "database_url": control,
        },
        environ={},
    )
    engine = make_engine(settings.control_db_url)
    ids = {}
    with transaction(make_session_factory(engine), write=True) as session:
        for tenant in tenant_definitions(PRESET):
            ids[tenant.slug] = tenant_service.create_tenant(session, **tenant.control_fields()).id
    engine.dispose()
    generate(PRESET, settings.lake_root, fmt="parquet", tenant_ids=ids, progress=False)
    generate(PRESET, root / "records", fmt="ndjson", progress=False)
    # Disposed here: an ephemeral instance left to the garbage collector warns in a later test.
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_build(settings, full_refresh=True, instance=instance)
    return Published(settings.var_dir, ids, result.snapshot, root / "records")


@dataclass(frozen=True)
class Served:
    """One test's app over a private copy of the published warehouse."""

    app: Flask
    settings: Settings
    tenant_ids: dict[str, int]
    published: Published

    @property
    def var_dir(self) -> Path:
        return self.settings.var_dir


def copy_var_dir(published: Published, target: Path) -> Path:
    """Copy the published ``var/`` without the build's DuckDB files (the API never opens them)."""
    ignore = shutil.ignore_patterns("*.duckdb", "*.duckdb.wal", "dagster", "dbt_target")
    shutil.copytree(published.var_dir, target, ignore=ignore, symlinks=True)
    return target


def create_tenants(app: Flask, published: Published) -> None:
    """Create the preset's tenants in this test's control DB under the build's ids."""
    sessions = app.extensions["shoplake.sessions"]
    with transaction(sessions, write=True) as session:
        for tenant in tenant_definitions(PRESET):
            created = tenant_service.create_tenant(session, **tenant.control_fields())
            expected = published.tenant_ids[tenant.slug]
            assert created.id == expected, f"{tenant.slug}: id {created.id}, build used {expected}"
