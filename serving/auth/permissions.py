"""The permission matrix, in one place, and the one decorator that enforces it.

Roles (per tenant membership) and API-key scopes both map to sets of permissions; a view asks
for exactly one permission with ``@require(Permission.X)``. The README's role table is generated
from :data:`ROLE_PERMISSIONS` and :data:`SCOPE_PERMISSIONS` and checked by a test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from flask import g

from serving.errors import forbidden, unauthorized
from warehouse.controldb.models import Role


class Permission(StrEnum):
    PLATFORM_MANAGE = "platform:manage"  # create, suspend and delete tenants
    TENANT_READ = "tenant:read"  # see the tenant's own settings
    TENANT_MANAGE = "tenant:manage"  # change tenant settings
    USERS_MANAGE = "users:manage"  # invite users, change roles, remove members
    KEYS_MANAGE = "keys:manage"  # create, list and revoke API keys
    DATA_READ = "data:read"  # read business records (products, customers, orders)
    DATA_WRITE = "data:write"  # create, update, delete business records; stock and prices
    DATA_INGEST = "data:ingest"  # bulk ingest and uploads
    REFUNDS = "refunds:create"  # refunds and payment operations
    NOTES = "notes:write"  # customer notes
    MARTS_READ = "marts:read"  # dashboards, analytics and mart queries
    EXPORTS = "exports:create"  # report exports
    SQL = "sql:query"  # ad-hoc SQL over published marts


TENANT_PERMISSIONS = frozenset(Permission) - {Permission.PLATFORM_MANAGE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: TENANT_PERMISSIONS,
    Role.MANAGER: frozenset(
        {
            Permission.TENANT_READ,
            Permission.DATA_READ,
            Permission.DATA_WRITE,
            Permission.DATA_INGEST,
            Permission.REFUNDS,
            Permission.NOTES,
            Permission.MARTS_READ,
            Permission.EXPORTS,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Permission.TENANT_READ,
            Permission.DATA_READ,
            Permission.MARTS_READ,
            Permission.EXPORTS,
            Permission.SQL,
        }
    ),
    Role.VIEWER: frozenset({Permission.TENANT_READ, Permission.MARTS_READ}),
}

SCOPES = ("ingest", "read", "write", "admin")

SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "ingest": frozenset({Permission.DATA_INGEST}),
    "read": frozenset(
        {
            Permission.TENANT_READ,
            Permission.DATA_READ,
            Permission.MARTS_READ,
            Permission.EXPORTS,
        }
    ),
    "write": frozenset(
        {
            Permission.DATA_WRITE,
            Permission.DATA_INGEST,
            Permission.REFUNDS,
            Permission.NOTES,
        }
    ),
    "admin": TENANT_PERMISSIONS,
}


def granted(principal: Any, role: Role | None) -> frozenset[Permission]:
    """Return what a principal may do in the resolved tenant."""
    if principal.is_platform_admin:
        return frozenset(Permission)
    if principal.is_api_key:
        return frozenset().union(*(SCOPE_PERMISSIONS.get(s, frozenset()) for s in principal.scopes))
    return ROLE_PERMISSIONS.get(role, frozenset()) if role else frozenset()


def require(permission: Permission) -> Callable:
    """Refuse the request unless the caller holds ``permission`` in the resolved tenant."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check(permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def check(permission: Permission) -> None:
    """Raise 401/403 (or a tenancy error) unless the current caller holds ``permission``."""
    from serving.auth.tenancy import current_tenant  # late: tenancy imports this module

    principal = g.get("principal")
    if principal is None:
        raise unauthorized()
    if permission is Permission.PLATFORM_MANAGE:
        if not principal.is_platform_admin:
            raise forbidden("Only platform administrators may do this.")
        return
    tenant, role = current_tenant(required=True)
    if permission not in granted(principal, role):
        raise forbidden(f"Your role or key scope does not grant {permission.value!r}.")


def matrix_markdown() -> str:
    """Render the role and scope matrix as the Markdown table the README carries."""
    columns = [*ROLE_PERMISSIONS, *SCOPE_PERMISSIONS]
    header = (
        "| permission | "
        + " | ".join(
            [f"{role.value}" for role in ROLE_PERMISSIONS] + [f"key:{s}" for s in SCOPE_PERMISSIONS]
        )
        + " |"
    )
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    for permission in Permission:
        if permission is Permission.PLATFORM_MANAGE:
            continue
        cells = [
            "x" if permission in grants else ""
            for grants in [*ROLE_PERMISSIONS.values(), *SCOPE_PERMISSIONS.values()]
        ]
        lines.append(f"| `{permission.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
