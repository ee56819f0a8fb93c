"""Request ids, the log context of each request, and one access-log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from warehouse import logs

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("shoplake.access")


def _incoming_request_id() -> str:
    # A caller's id is echoed when it is safe to log; anything else is replaced.
    candidate = request.headers.get(REQUEST_ID_HEADER, "")
    return candidate if _VALID_ID.match(candidate) else uuid.uuid4().hex


def init_request_context(app: Flask) -> None:
    """Assign a request id before anything else runs and log each finished request."""

    @app.before_request
    def _start() -> None:
        g.request_id = _incoming_request_id()
        g.started = time.perf_counter()
        logs.clear()
        logs.bind(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.environ.get("shoplake.original_path", request.path),
                "status": response.status_code,
                "duration_ms": round(elapsed_ms, 2),
            },
        )
        return response

    @app.teardown_request
    def _teardown(_exc: BaseException | None) -> None:
        logs.clear()
