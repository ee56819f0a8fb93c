"""The base of every error a service raises for a caller to fix: a status, a field, a reason.

Services (control plane, ingestion) raise subclasses; the API turns any of them into
problem+json in one handler, so views need no try/except around service calls.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refused request: ``status`` is the HTTP answer, ``field`` names the culprit."""

    status = 400

    def __init__(self, field: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        if status is not None:
            self.status = status
