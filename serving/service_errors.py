"""Map control-plane service errors (NotFound, Conflict, Invalid) to problem+json.

A blueprint whose views call :mod:`warehouse.controlplane` services installs the mapping once
with :func:`install`, so its views need no try/except around each call.
"""

from __future__ import annotations

from flask import Blueprint, Response

from serving.errors import ApiError, FieldError, problem_response
from warehouse.controlplane.errors import ControlPlaneError

_KINDS = {
    404: ("Not Found", "not-found"),
    409: ("Conflict", "conflict"),
    422: ("Unprocessable Content", "validation-failed"),
}


def to_api_error(exc: ControlPlaneError) -> ApiError:
    """Return the ApiError a service error stands for, naming its field."""
    title, slug = _KINDS.get(exc.status, ("Bad Request", "bad-request"))
    return ApiError(exc.status, title, exc.reason, slug, [FieldError(exc.field, exc.reason)])


def install(blueprint: Blueprint) -> None:
    """Answer service errors raised in ``blueprint``'s views as problem+json."""

    def _handle(exc: ControlPlaneError) -> Response:
        return problem_response(to_api_error(exc))

    blueprint.register_error_handler(ControlPlaneError, _handle)
