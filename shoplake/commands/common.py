"""What every command shares: settings, a control-DB transaction, errors, and output."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from warehouse.config import Settings
from warehouse.controldb import make_engine, make_session_factory, transaction
from warehouse.controlplane.errors import ControlPlaneError


def settings_of(ctx: click.Context) -> Settings:
    """Return the settings the top-level command loaded."""
    return ctx.find_root().obj


@contextmanager
def control_session(settings: Settings, *, write: bool = True) -> Iterator[Session]:
    """Run a block in one control-DB transaction; service errors become CLI errors."""
    engine = make_engine(settings.control_db_url)
    try:
        with transaction(make_session_factory(engine), write=write) as session:
            yield session
    except ControlPlaneError as exc:
        raise click.ClickException(f"{exc.field}: {exc.reason}") from None
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(
            f"control DB error: {exc.orig}. Has `shoplake init` been run?"
        ) from None
    finally:
        engine.dispose()


def parse_assignments(pairs: Sequence[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` options; a VALUE that is JSON (14, null, ["a"]) is decoded."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        try:
            result[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            result[key.strip()] = raw
    return result


def emit(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], as_json: bool) -> None:
    """Print rows as JSON lines, or as an aligned table of the given columns."""
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, default=_json_value))
        return
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(line[i]) for line in cells)) for i, col in enumerate(columns)]
    click.echo("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)))
    for line in cells:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _json_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def json_option(function: Any) -> Any:
    """Add ``--json`` (machine-readable output) to a command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON lines instead of a table."
    )(function)
