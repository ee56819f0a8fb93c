"""Access checks for the tenant records themselves (``/api/v1/tenants/<tenant_id>/``).

There the id in the path is the resource, not a tenant resolved by :mod:`serving.auth.tenancy`,
so ``require`` cannot be used: :func:`require_on_tenant` checks the caller against the tenant
the path names. A caller who is not a member gets 404 whether or not the tenant exists, a
member without the permission 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g

from serving.auth.permissions import Permission, granted
from serving.auth.principal import Principal
from serving.auth.tenancy import lookup_tenant, requested_tenant_refs
from serving.db import db
from serving.errors import ApiError, FieldError, bad_request, forbidden, not_found, unauthorized
from warehouse.controldb.models import Tenant
from warehouse.controlplane.users import role_of


def signed_in() -> Principal:
    """Return the caller, or raise 401 when the request carries no credential."""
    principal = g.get("principal")
    if principal is None:
        raise unauthorized()
    return principal


def check_tenant_access(tenant_id: int, permission: Permission) -> Tenant:
    """Return the tenant if the caller holds ``permission`` in it, else raise 404/403."""
    principal = signed_in()
    _check_no_other_tenant_named(tenant_id)
    tenant = db().get(Tenant, tenant_id)
    if principal.is_platform_admin:
        if tenant is None:
            raise not_found("No such tenant.")
        return tenant
    role = role_of(db(), tenant_id, principal.user_id) if principal.user_id is not None else None
    is_member = role is not None or (
        principal.is_api_key and principal.bound_tenant_id == tenant_id
    )
    if tenant is None or not is_member:
        raise not_found("No such tenant.")
    if principal.bound_tenant_id not in (None, tenant_id):
        raise forbidden("Your credential belongs to a different tenant.")
    if permission not in granted(principal, role):
        raise forbidden(f"Your role or key scope does not grant {permission.value!r}.")
    if not tenant.is_active:
        raise ApiError(403, "Forbidden", "This tenant is suspended.", "tenant-suspended")
    return tenant


def _check_no_other_tenant_named(tenant_id: int) -> None:
    # X-Tenant-ID, ?tenant_id= or the host may name a tenant too; they must agree with the path.
    for source, ref in requested_tenant_refs().items():
        if ref == str(tenant_id):
            continue
        named = lookup_tenant(ref)
        if ref.startswith("domain:") and named is None:
            continue  # the API's own host name, not a tenant's domain
        if named is None or named.id != tenant_id:
            raise bad_request(
                "The request names more than one tenant.",
                FieldError(source, f"names tenant {ref!r}, the path names {tenant_id}"),
            )


def require_on_tenant(permission: Permission) -> Callable:
    """Like ``require``, for views whose ``tenant_id`` path parameter is the tenant itself."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, tenant_id: int, **kwargs: Any) -> Any:
            check_tenant_access(tenant_id, permission)
            return view(*args, tenant_id=tenant_id, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def require_signed_in(listed_permission: Permission) -> Callable:
    """Let any signed-in caller through; the view lists only what grants ``listed_permission``."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            signed_in()
            return view(*args, **kwargs)

        wrapper.required_permission = listed_permission  # type: ignore[attr-defined]
        return wrapper

    return decorate
