"""Structured JSON logging shared by every process: API workers, CLI jobs and pipelines.

Context (request id, tenant, principal, job) lives in a contextvar so any code path can log
without being handed it, and each line carries whatever context is bound at that moment.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, Any] | None] = ContextVar("shoplake_log_context", default=None)

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def bind(**values: Any) -> None:
    """Add values to the current log context (e.g. tenant once it is resolved)."""
    _context.set({**(_context.get() or {}), **values})


def clear() -> None:
    """Drop the current log context (at the end of a request)."""
    _context.set(None)


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind values for the duration of a block."""
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


_base_factory = logging.getLogRecordFactory()


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Capture the context when the record is made, not when a handler formats it later.
    record = _base_factory(*args, **kwargs)
    record._context = _context.get() or {}
    return record


if getattr(logging.getLogRecordFactory(), "__name__", "") != _record_with_context.__name__:
    logging.setLogRecordFactory(_record_with_context)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "_context", None) or _context.get() or {})
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO", stream: Any = None) -> None:
    """Send all logs as JSON lines to ``stream`` (stderr by default); safe to call twice."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.set_name("shoplake-json")
    root.handlers = [h for h in root.handlers if h.get_name() != "shoplake-json"] + [handler]
    root.setLevel(level.upper())
