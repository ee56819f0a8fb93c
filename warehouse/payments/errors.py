"""Errors the payments services raise; the API turns them into problem+json."""

from __future__ import annotations

from warehouse.errors import ServiceError


class PaymentError(ServiceError):
    """Base: a payment request refused, with the offending field."""


class NotFound(PaymentError):
    status = 404


class Conflict(PaymentError):
    status = 409


class Invalid(PaymentError):
    status = 422


class ProviderError(PaymentError):
    """The payment provider refused or could not be reached; ``code`` is its error code."""

    status = 502

    def __init__(self, field: str, reason: str, status: int | None = None, code: str = "") -> None:
        super().__init__(field, reason, status)
        self.code = code
