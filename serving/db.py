"""Per-request access to the control DB: one session per request, closed at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb import make_engine, make_session_factory
from warehouse.controldb import transaction as _transaction


def init_db(app: Flask) -> None:
    """Create the engine for the app's settings and close sessions after each request."""
    engine = make_engine(app.config["SHOPLAKE"].control_db_url)
    app.extensions["shoplake.engine"] = engine
    app.extensions["shoplake.sessions"] = make_session_factory(engine)

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def session_factory() -> sessionmaker[Session]:
    """Return the app's session factory (for work outside the request session)."""
    return current_app.extensions["shoplake.sessions"]


def db() -> Session:
    """Return this request's session, for reads."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


@contextmanager
def write_transaction() -> Iterator[Session]:
    """Run a read-then-write unit of work in its own committed transaction."""
    with _transaction(session_factory(), write=True) as session:
        yield session
