"""Tenants: platform administrators create, suspend and delete them; members read them and
tenant admins change their settings.

Sub-resources of a tenant (``/api/v1/tenants/<id>/users/`` ...) are rewritten by
:mod:`serving.routing` to their own blueprints; only the record and ``status/`` live here.
"""

from __future__ import annotations

from flask import Blueprint

from serving.api import operation
from serving.auth.permissions import Permission, granted, require
from serving.db import db, write_transaction
from serving.errors import ApiError, FieldError, forbidden
from serving.pagination import Keyset, Page, paginate
from serving.schemas.tenants import (
    TenantCreate,
    TenantOut,
    TenantPage,
    TenantStatusChange,
    TenantUpdate,
)
from serving.tenant_access import require_on_tenant, require_signed_in, signed_in
from warehouse.controldb.models import Tenant
from warehouse.controlplane import tenants

bp = Blueprint("tenants", __name__, url_prefix="/api/v1/tenants")

TENANTS = Keyset("tenants", sort=Tenant.id, id=Tenant.id)
PLATFORM_ONLY_FIELDS = frozenset({"slug", "status"})


@bp.post("/")
@require(Permission.PLATFORM_MANAGE)
@operation(body=TenantCreate, response=TenantOut, status=201, errors=(409,))
def create_tenant(body: TenantCreate) -> TenantOut:
    """Create a tenant."""
    with write_transaction() as session:
        tenant = tenants.create_tenant(session, **body.model_dump())
    return TenantOut.of(tenant)


@bp.get("/")
@require_signed_in(Permission.TENANT_READ)
@operation(query=Page, response=TenantPage, errors=(400,))
def list_tenants(query: Page) -> TenantPage:
    """List tenants: all for platform administrators, otherwise the caller's own.

    A user sees every tenant they are a member of; an API key sees its own tenant.
    """
    principal = signed_in()
    if principal.is_platform_admin:
        selection = tenants.tenants_query()
    elif principal.is_api_key:
        if Permission.TENANT_READ not in granted(principal, None):
            raise forbidden("This key's scopes do not grant 'tenant:read'.")
        selection = tenants.tenants_query(tenant_id=principal.bound_tenant_id)
    else:
        selection = tenants.tenants_query(member_user_id=principal.user_id)
    rows, cursor = paginate(db(), selection, TENANTS, query)
    return TenantPage(data=[TenantOut.of(tenant) for tenant in rows], next_cursor=cursor)


@bp.get("/<int:tenant_id>/")
@require_on_tenant(Permission.TENANT_READ)
@operation(response=TenantOut, errors=(404,))
def get_tenant(tenant_id: int) -> TenantOut:
    """Show a tenant with its effective settings."""
    return TenantOut.of(tenants.get_tenant(db(), tenant_id))


@bp.patch("/<int:tenant_id>/")
@require_on_tenant(Permission.TENANT_MANAGE)
@operation(body=TenantUpdate, response=TenantOut, errors=(404, 409))
def update_tenant(tenant_id: int, body: TenantUpdate) -> TenantOut:
    """Change a tenant's name, domains, time zone, currency or settings.

    Only platform administrators may change ``slug`` or ``status``.
    """
    changes = body.model_dump(exclude_unset=True)
    platform_only = sorted(PLATFORM_ONLY_FIELDS & set(changes))
    if platform_only and not signed_in().is_platform_admin:
        raise ApiError(
            403,
            "Forbidden",
            "Only platform administrators may change these fields.",
            "forbidden",
            [FieldError(name, "platform administrators only") for name in platform_only],
        )
    with write_transaction() as session:
        tenant = tenants.update_tenant(session, tenant_id, changes)
    return TenantOut.of(tenant)


@bp.delete("/<int:tenant_id>/")
@require(Permission.PLATFORM_MANAGE)
@operation(status=204, errors=(404,))
def delete_tenant(tenant_id: int) -> None:
    """Delete a tenant with its memberships and API keys."""
    with write_transaction() as session:
        tenants.delete_tenant(session, tenant_id)


@bp.post("/<int:tenant_id>/status/")
@require(Permission.PLATFORM_MANAGE)
@operation(body=TenantStatusChange, response=TenantOut, errors=(404,))
def set_tenant_status(tenant_id: int, body: TenantStatusChange) -> TenantOut:
    """Suspend or reactivate a tenant; a suspended tenant's keys and tokens stop working."""
    with write_transaction() as session:
        tenant = tenants.set_status(session, tenant_id, body.status)
    return TenantOut.of(tenant)
