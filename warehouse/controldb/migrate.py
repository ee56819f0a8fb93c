"""Run Alembic migrations programmatically; no alembic.ini is needed.

Alembic is imported only by the functions that migrate: checking whether a database is current
reads the ``alembic_version`` table directly, so the API server (which only checks) never loads
Alembic and Mako into the memory every worker inherits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from warehouse.controldb.engine import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def alembic_config(url: str) -> Config:
    """Build an Alembic config pointing at our migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the control DB at ``url`` to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """Return the newest revision id, read from the file names.

    Our revisions form one line and each file is named after its id (``0007_dashboard_widgets.py``
    holds revision ``0007``); a test checks this against Alembic's own view of the head.
    """
    return max(path.name.split("_", 1)[0] for path in VERSIONS_DIR.glob("[0-9]*_*.py"))


def applied_revisions(url: str) -> set[str]:
    """Return the revisions recorded in the database (empty when it was never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return set()
            return set(connection.scalars(text("select version_num from alembic_version")))
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    """Tell whether the control DB at ``url`` is migrated to the newest revision."""
    return applied_revisions(url) == {head_revision()}
