"""Errors control-plane services raise; the API maps them to problem+json."""

from __future__ import annotations

from warehouse.errors import ServiceError


class ControlPlaneError(ServiceError):
    """Base: a request the control plane refuses, with the offending field."""


class NotFound(ControlPlaneError):
    status = 404


class Conflict(ControlPlaneError):
    status = 409


class Invalid(ControlPlaneError):
    status = 422
