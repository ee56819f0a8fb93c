"""Request body size: ``max_body_bytes`` everywhere, a named larger setting where a view asks.

A view that must accept more (bulk ingest) raises its own limit, either with the decorator::

    @bp.post("/api/v1/ingest/<entity>")
    @accepts_large_body("max_ingest_bytes")
    @require(Permission.DATA_INGEST)
    def ingest(entity): ...

or, in a package that may not import ``serving`` (``ingestion``), by setting the attribute
:data:`BODY_LIMIT_ATTR` on the view function to the setting's name. The limit applies to the
bytes on the wire: a declared ``Content-Length`` above it is refused before the view runs, and
reading a streamed (chunked) body raises the same 413 the moment it passes the limit - never a
silently truncated body. Views read the body through ``request`` (``get_data``, ``stream``);
``request.environ["wsgi.input"]`` is the capped stream too.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from serving.errors import ApiError, FieldError, problem_response
from warehouse.config import SETTINGS

BODY_LIMIT_ATTR = "body_limit_setting"
DEFAULT_SETTING = "max_body_bytes"


def accepts_large_body(setting: str = "max_ingest_bytes") -> Callable:
    """Let one view accept bodies up to the named integer setting instead of max_body_bytes."""
    if not any(s.name == setting and s.type is int for s in SETTINGS):
        raise ValueError(f"{setting!r} is not an integer setting")

    def decorate(view: Callable) -> Callable:
        setattr(view, BODY_LIMIT_ATTR, setting)
        return view

    return decorate


def body_limit() -> int:
    """Return the body size limit, in bytes, of the current request's view."""
    view = current_app.view_functions.get(request.endpoint or "")
    setting = getattr(view, BODY_LIMIT_ATTR, None) or DEFAULT_SETTING
    return int(getattr(current_app.config["SHOPLAKE"], setting))


def too_large(limit: int) -> ApiError:
    """Return the 413 problem for a body over ``limit`` bytes."""
    return ApiError(
        413,
        "Content Too Large",
        f"The request body is larger than {limit} bytes.",
        "payload-too-large",
        [FieldError("body", f"at most {limit} bytes")],
    )


def init_body_limits(app: Flask) -> None:
    """Apply each view's body limit before it runs, and answer overruns as 413 problems."""
    app.before_request(_apply_limit)
    app.register_error_handler(RequestEntityTooLarge, _overrun)


def _apply_limit() -> None:
    limit = body_limit()
    if request.content_length is not None:
        if request.content_length > limit:
            raise too_large(limit)
        request.max_content_length = limit
        return
    if "wsgi.input_terminated" in request.environ:
        # A streamed (chunked) body. Werkzeug's own cap would cut it off silently at the limit,
        # so it is set one byte above ours and ours raises 413 on the first byte too many.
        request.environ["wsgi.input"] = CappedInput(request.environ["wsgi.input"], limit)
        request.max_content_length = limit + 1


class CappedInput(io.RawIOBase):
    """A streamed request body that raises 413 as soon as more than ``limit`` bytes arrive."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Asking for one byte past the limit is how an overrun is told from an exact fit.
        data = self._stream.read(min(len(buffer), self._limit + 1 - self._seen))
        self._seen += len(data)
        if self._seen > self._limit:
            raise RequestEntityTooLarge()
        buffer[: len(data)] = data
        return len(data)


def _overrun(_exc: RequestEntityTooLarge) -> Response:
    return problem_response(too_large(body_limit()))
