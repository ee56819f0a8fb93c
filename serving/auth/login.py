"""Password login: check credentials, pick the tenant a login binds to, start browser sessions.

A wrong email and a wrong password give the same 401 after the same amount of hashing work, so
neither the answer nor its timing tells whether an account exists.
"""

from __future__ import annotations

import secrets

from flask import current_app, session
from sqlalchemy import select

from serving.auth.authenticate import SESSION_CSRF_KEY, SESSION_USER_KEY
from serving.auth.tenancy import lookup_tenant
from serving.db import db
from serving.errors import ApiError, forbidden, not_found, unauthorized
from warehouse.controldb.models import Membership, Tenant, User
from warehouse.controlplane.passwords import dummy_hash, verify_password

WRONG_CREDENTIALS = "Wrong email or password."
NO_ACCESS = "You do not have access to this tenant."


def verify_login(email: str, password: str) -> User:
    """Return the active user the credentials name, or raise the one 401 for any mismatch."""
    memory_kib = current_app.config["SHOPLAKE"].password_hash_memory_kib
    # Emails are stored normalised (stripped, lower case), so the unique index finds them.
    user = db().scalar(select(User).where(User.email == email.strip().lower()))
    # A missing user still costs one verification, against a hash of the same cost.
    stored = user.password_hash if user is not None else dummy_hash(memory_kib)
    matches = verify_password(stored, password, memory_kib)
    if user is None or not matches or not user.is_active:
        raise unauthorized(WRONG_CREDENTIALS)
    return user


def login_tenant(user: User, ref: int | str | None) -> Tenant | None:
    """Return the tenant a login binds its tokens to: the named one, or the user's only one."""
    if ref is None:
        tenant = None if user.is_platform_admin else _only_tenant(user.id)
    else:
        tenant = lookup_tenant(str(ref).strip())
        if tenant is None:
            # Only a platform admin may learn that a tenant does not exist.
            raise not_found("No such tenant.") if user.is_platform_admin else forbidden(NO_ACCESS)
        if not user.is_platform_admin and _role(user.id, tenant.id) is None:
            raise forbidden(NO_ACCESS)
    if tenant is not None and not tenant.is_active and not user.is_platform_admin:
        raise ApiError(403, "Forbidden", "This tenant is suspended.", "tenant-suspended")
    return tenant


def _only_tenant(user_id: int) -> Tenant | None:
    query = select(Membership.tenant_id).where(Membership.user_id == user_id).limit(2)
    tenant_ids = db().scalars(query).all()
    return db().get(Tenant, tenant_ids[0]) if len(tenant_ids) == 1 else None


def _role(user_id: int, tenant_id: int) -> str | None:
    return db().scalar(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.tenant_id == tenant_id
        )
    )


def memberships(user_id: int) -> list[Membership]:
    """Return a user's memberships with their tenants, ordered by tenant id."""
    query = select(Membership).where(Membership.user_id == user_id).order_by(Membership.tenant_id)
    return list(db().scalars(query))


def start_session(user: User) -> str:
    """Sign a user into a fresh cookie session and return its CSRF token."""
    # Clearing first drops anything planted in the cookie before login (session fixation).
    session.clear()
    session[SESSION_USER_KEY] = user.id
    session[SESSION_CSRF_KEY] = secrets.token_urlsafe(32)
    session.permanent = True
    return session[SESSION_CSRF_KEY]


def end_session() -> None:
    """Forget the cookie session (the browser is told to drop the cookie)."""
    session.clear()
