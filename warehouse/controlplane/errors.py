"""Errors control-plane services raise; the API maps them to problem+json."""

from __future__ import annotations


class ControlPlaneError(Exception):
    """Base: a request the control plane refuses, with the offending field."""

    status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(ControlPlaneError):
    status = 404


class Conflict(ControlPlaneError):
    status = 409


class Invalid(ControlPlaneError):
    status = 422
