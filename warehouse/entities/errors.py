"""Errors entity services raise; each carries every offending field, for problem+json."""

from __future__ import annotations

from collections.abc import Sequence

from warehouse.errors import ServiceError

FieldReasons = Sequence[tuple[str, str]]


class EntityError(ServiceError):
    """A refused entity write or read; ``errors`` lists (field, reason), first one in ``field``."""

    def __init__(self, errors: FieldReasons, status: int | None = None) -> None:
        field, reason = errors[0]
        super().__init__(field, reason, status)
        self.errors = list(errors)


class EntityNotFound(EntityError):
    status = 404


class EntityConflict(EntityError):
    status = 409


class EntityInvalid(EntityError):
    status = 422


BY_STATUS = {404: EntityNotFound, 409: EntityConflict, 422: EntityInvalid}


def raise_for(status: int, errors: FieldReasons) -> None:
    """Raise the error a failed item's status stands for (no-op for a success)."""
    if status >= 400:
        raise BY_STATUS.get(status, EntityInvalid)(errors, status)
