"""Layered fixtures: settings -> app -> client -> factory helpers.

``--controldb=postgres`` runs the same suite on PostgreSQL (URL from SHOPLAKE_TEST_POSTGRES_URL);
``--ratelimit-storage`` points the limiter tests at Redis.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from serving import close_app, create_app
from tests.factories import Factory
from warehouse.config import Settings, load_settings
from warehouse.controldb import upgrade
from warehouse.controldb.models import Base

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--controldb",
        default="sqlite",
        choices=("sqlite", "postgres"),
        help="control DB backend to run the suite against",
    )
    parser.addoption(
        "--ratelimit-storage",
        default="memory://",
        help="limits storage URL for rate-limit tests (e.g. redis://127.0.0.1:6379/0)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, skip tests that never touch the control DB: they ran on SQLite."""
    if config.getoption("--controldb") != "postgres":
        return
    unrelated = pytest.mark.skip(reason="does not use the control DB; covered by the SQLite run")
    for item in items:
        if "database_url" not in getattr(item, "fixturenames", ()):
            item.add_marker(unrelated)


@pytest.fixture(scope="session")
def controldb_template(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """Migrate once per session: an SQLite file to copy, or a PostgreSQL schema to truncate."""
    if request.config.getoption("--controldb") == "sqlite":
        path = tmp_path_factory.mktemp("controldb") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield str(path)
        return
    import os

    base = os.environ.get("SHOPLAKE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = f"{base}?options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
    admin.dispose()


@pytest.fixture
def database_url(controldb_template: str, tmp_path: Path) -> Iterator[str]:
    """A clean, migrated control DB for one test."""
    if not controldb_template.startswith("postgresql"):
        target = tmp_path / "control.db"
        shutil.copy(controldb_template, target)
        yield f"sqlite:///{target}"
        return
    yield controldb_template
    engine = create_engine(controldb_template)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"truncate {tables} restart identity cascade"))
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for an isolated test instance under a temporary var dir."""
    return load_settings(
        {
            "env": "test",
            # PyJWT warns (an error under filterwarnings) about HMAC keys under 32 bytes.
            "secret_key": "test-secret-key-at-least-32-bytes-long",
            # Counters of one test never meet another's, even in shared Redis.
            "ratelimit_key_prefix": f"test-{uuid.uuid4().hex[:12]}",
            "var_dir": tmp_path / "var",
            "database_url": database_url,
            "password_hash_memory_kib": 1024,
            "ratelimit_storage_url": request.config.getoption("--ratelimit-storage"),
        },
        environ={},
    )


@pytest.fixture
def app(settings: Settings):
    app = create_app(settings)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app) -> Factory:
    """Create tenants, users, memberships, keys and tokens directly in the control DB."""
    return Factory(app)
