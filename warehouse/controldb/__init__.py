"""The control-plane database: models, engine, migrations."""

from warehouse.controldb.engine import make_engine, make_session_factory, transaction
from warehouse.controldb.migrate import is_current, upgrade

__all__ = ["is_current", "make_engine", "make_session_factory", "transaction", "upgrade"]
