"""Fixtures for tests of mart-backed endpoints: one session build, a private copy per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving import close_app, create_app
from tests.published import (
    Published,
    Served,
    build_published,
    copy_var_dir,
    create_tenants,
)
from warehouse.config import Settings


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The tiny preset, built and published once for the whole session."""
    return build_published(tmp_path_factory.mktemp("published"))


@pytest.fixture
def served(published: Published, settings: Settings, tmp_path: Path) -> Iterator[Served]:
    """An app over this test's own copy of the published warehouse and its tenants."""
    var_dir = copy_var_dir(published, tmp_path / "served-var")
    served_settings = settings.replace(var_dir=var_dir)
    app = create_app(served_settings)
    create_tenants(app, published)
    yield Served(app, served_settings, dict(published.tenant_ids), published)
    close_app(app)


@pytest.fixture
def bare(client, make):
    """A caller of a tenant without marts: requests refused before any mart is read."""
    headers = make.key_headers(make.tenant(), "read")
    return lambda url: client.get(url, headers=headers)
