"""Members of the current tenant: tenant admins add people, change roles and remove them.

Also answers at ``/api/v1/tenants/<id>/users/``. Removing a member ends the membership only;
the account and its other memberships stay. Every tenant keeps at least one admin.
"""

from __future__ import annotations

from flask import Blueprint, current_app

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.db import db, write_transaction
from serving.pagination import Keyset, Page, paginate
from serving.schemas.users import MemberCreate, MemberOut, MemberPage, MemberUpdate
from warehouse.controldb.models import User
from warehouse.controlplane import users

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")

MEMBERS = Keyset("members", sort=User.email, id=User.id)


def _memory_kib() -> int:
    return current_app.config["SHOPLAKE"].password_hash_memory_kib


@bp.get("/")
@require(Permission.USERS_MANAGE)
@operation(query=Page, response=MemberPage, errors=(400,))
def list_members(query: Page) -> MemberPage:
    """List the tenant's members with their roles, by email."""
    rows, cursor = paginate(db(), users.members_query(tenant_id()), MEMBERS, query)
    return MemberPage(data=[MemberOut.of(m) for m in rows], next_cursor=cursor)


@bp.post("/")
@require(Permission.USERS_MANAGE)
@operation(body=MemberCreate, response=MemberOut, status=201, errors=(409,))
def add_member(body: MemberCreate) -> MemberOut:
    """Add a member, creating the account when the email is new."""
    with write_transaction() as session:
        membership = users.add_member_by_email(
            session,
            tenant_id(),
            email=body.email,
            role=body.role,
            full_name=body.full_name,
            password=body.password,
            memory_kib=_memory_kib(),
        )
    return MemberOut.of(membership)


@bp.get("/<int:user_id>/")
@require(Permission.USERS_MANAGE)
@operation(response=MemberOut, errors=(404,))
def get_member(user_id: int) -> MemberOut:
    """Show one member of the tenant."""
    return MemberOut.of(users.get_membership(db(), tenant_id(), user_id))


@bp.patch("/<int:user_id>/")
@require(Permission.USERS_MANAGE)
@operation(body=MemberUpdate, response=MemberOut, errors=(404, 409))
def change_role(user_id: int, body: MemberUpdate) -> MemberOut:
    """Change a member's role (the tenant's last admin cannot be demoted)."""
    with write_transaction() as session:
        membership = users.set_role(session, tenant_id(), user_id, body.role)
    return MemberOut.of(membership)


@bp.delete("/<int:user_id>/")
@require(Permission.USERS_MANAGE)
@operation(status=204, errors=(404, 409))
def remove_member(user_id: int) -> None:
    """Remove a member from the tenant (the account itself stays)."""
    with write_transaction() as session:
        users.remove_member(session, tenant_id(), user_id)
