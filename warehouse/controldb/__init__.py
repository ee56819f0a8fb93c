"""The control-plane database: models, engine, migrations."""

from warehouse.controldb.engine import make_engine, make_session_factory, transaction
from warehouse.controldb.migrate import upgrade

__all__ = ["make_engine", "make_session_factory", "transaction", "upgrade"]
