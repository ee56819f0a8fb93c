"""The one place that turns failures into RFC 9457 ``application/problem+json`` responses.

Views raise :class:`ApiError` (or let werkzeug raise an HTTPException); nothing else writes an
error body. Unexpected exceptions become a bare 500 with the request id and no stack trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException

from warehouse.errors import ServiceError

PROBLEM_MIME = "application/problem+json"
TYPE_BASE = "https://shoplake.dev/problems/"

log = logging.getLogger("shoplake.errors")


@dataclass
class FieldError:
    """One invalid input: where (dotted path or header/query name) and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass
class ApiError(Exception):
    """An error a client can act on; ``slug`` becomes the problem ``type`` URI."""

    status: int
    title: str
    detail: str = ""
    slug: str = ""
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)


def bad_request(detail: str, *errors: FieldError) -> ApiError:
    """400: the request could not be parsed."""
    return ApiError(400, "Bad Request", detail, "bad-request", list(errors))


def unprocessable(detail: str, *errors: FieldError) -> ApiError:
    """422: the request parsed but failed validation."""
    return ApiError(422, "Unprocessable Content", detail, "validation-failed", list(errors))


def unauthorized(detail: str = "Authentication required.") -> ApiError:
    """401: no or invalid credentials."""
    headers = {"WWW-Authenticate": 'Bearer realm="shoplake", ApiKey realm="shoplake"'}
    return ApiError(401, "Unauthorized", detail, "unauthorized", headers=headers)


def forbidden(detail: str) -> ApiError:
    """403: authenticated, but not allowed."""
    return ApiError(403, "Forbidden", detail, "forbidden")


def not_found(detail: str = "The resource does not exist.") -> ApiError:
    """404: nothing there (also used where existence must not leak)."""
    return ApiError(404, "Not Found", detail, "not-found")


def conflict(detail: str, *errors: FieldError) -> ApiError:
    """409: the request conflicts with the current state."""
    return ApiError(409, "Conflict", detail, "conflict", list(errors))


def problem_response(error: ApiError) -> Response:
    """Serialise an ApiError as problem+json."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (error.slug or str(error.status)),
        "title": error.title,
        "status": error.status,
    }
    if error.detail:
        body["detail"] = error.detail
    if error.errors:
        body["errors"] = [e.as_dict() for e in error.errors]
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(error.extra)
    response = Response(json.dumps(body), status=error.status, mimetype=PROBLEM_MIME)
    response.headers.update(error.headers)
    return response


def _from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    slugs = {
        405: "method-not-allowed",
        404: "not-found",
        413: "payload-too-large",
        415: "unsupported-media-type",
        429: "rate-limited",
    }
    detail = exc.description or ""
    error = ApiError(status, exc.name, detail, slugs.get(status, str(status)))
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        error.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if exc.response is not None:
        for name in ("Retry-After",):
            if name in exc.response.headers:
                error.headers[name] = exc.response.headers[name]
    return error


_TITLES = {
    400: ("Bad Request", "bad-request"),
    404: ("Not Found", "not-found"),
    409: ("Conflict", "conflict"),
    413: ("Content Too Large", "payload-too-large"),
    415: ("Unsupported Media Type", "unsupported-media-type"),
    422: ("Unprocessable Content", "validation-failed"),
}


def from_service_error(exc: ServiceError) -> ApiError:
    """Return the ApiError a service error stands for, naming its field."""
    title, slug = _TITLES.get(exc.status, ("Bad Request", "bad-request"))
    return ApiError(exc.status, title, exc.reason, slug, [FieldError(exc.field, exc.reason)])


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that make every failure problem+json."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return problem_response(exc)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        return problem_response(from_service_error(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return problem_response(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(
            ApiError(500, "Internal Server Error", "An unexpected error occurred.", "internal")
        )
