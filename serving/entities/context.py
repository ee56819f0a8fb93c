"""The current request's view of the entity service: its tenant's store and write context."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import current_app, g

from serving.auth.tenancy import current_tenant
from serving.db import session_factory
from serving.errors import ApiError, FieldError, from_service_error
from warehouse.entities import Store, Write
from warehouse.entities.errors import EntityError

T = TypeVar("T")


def store() -> Store:
    """Return the store of the tenant this request acts on."""
    settings = current_app.config["SHOPLAKE"]
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return Store(settings.lake_root, settings.var_dir, tenant.id)


def write_context(scope: str, key: str | None = None) -> Write:
    """Return the write context of this request (defaults: the tenant's currency)."""
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return Write(store(), session_factory(), scope, key, {"currency": tenant.currency})


def author() -> str:
    """Return a label of the caller, recorded as the author of what it writes."""
    principal = g.get("principal")
    return principal.id if principal is not None else "unknown"


@contextmanager
def entity_errors() -> Iterator[None]:
    """Turn an entity error into problem+json naming every offending field."""
    try:
        yield
    except EntityError as exc:
        error: ApiError = from_service_error(exc)
        error.errors = [FieldError(field, reason) for field, reason in exc.errors]
        raise error from None


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call an entity service function, mapping its errors to problem+json."""
    with entity_errors():
        return function(*args, **kwargs)
