"""Users and tenant memberships: accounts, passwords, roles, and the last-admin rule.

A user is global (one email, one password) and joins tenants through memberships with a role.
Every tenant keeps at least one admin: demoting or removing the last one is refused.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager

from warehouse.controldb.models import Membership, RefreshToken, Role, User, utcnow
from warehouse.controlplane.errors import Conflict, Invalid, NotFound
from warehouse.controlplane.passwords import MIN_PASSWORD_LENGTH, hash_password

log = logging.getLogger("shoplake.controlplane")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
# Hashing cost grows with input; nobody types a password this long.
MAX_PASSWORD_LENGTH = 1024


def normalise_email(email: str) -> str:
    """Return the trimmed, lower-cased address, or raise Invalid."""
    cleaned = email.strip().lower() if isinstance(email, str) else ""
    if len(cleaned) > 320 or not _EMAIL.match(cleaned):
        raise Invalid("email", "is not a valid email address")
    return cleaned


def check_password(password: str) -> str:
    """Return ``password`` if its length is acceptable."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


def check_role(role: str) -> Role:
    """Return ``role`` as a Role, or raise Invalid."""
    try:
        return Role(role)
    except ValueError:
        raise Invalid("role", f"choose from {', '.join(Role)}") from None


def _check_full_name(full_name: str) -> str:
    cleaned = full_name.strip() if isinstance(full_name, str) else ""
    if len(cleaned) > 200:
        raise Invalid("full_name", "must be at most 200 characters")
    return cleaned


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    memory_kib: int,
    full_name: str = "",
    is_platform_admin: bool = False,
) -> User:
    """Create an account; the email is normalised and must be unused."""
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("email", "an account with this email exists")
    user = User(
        email=email,
        full_name=_check_full_name(full_name),
        is_platform_admin=is_platform_admin,
        password_hash=hash_password(check_password(password), memory_kib),
        is_active=True,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent writer took the address between check and insert
        raise Conflict("email", "an account with this email exists") from None
    log.info("user created", extra={"user_id": user.id, "platform_admin": is_platform_admin})
    return user


def get_user(session: Session, user_id: int) -> User:
    """Return a user by id, or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user_id", "no such user")
    return user


def find_user(session: Session, email: str) -> User | None:
    """Return the user with this address (any case), or None."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def users_query() -> Select[tuple[User]]:
    """Select every account (unordered)."""
    return select(User)


def update_user(
    session: Session,
    user_id: int,
    *,
    memory_kib: int,
    full_name: str | None = None,
    password: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change an account's name, password or active flag (None leaves a field unchanged).

    A new password revokes the user's refresh tokens, so other signed-in devices must log in
    again.
    """
    user = get_user(session, user_id)
    if full_name is not None:
        user.full_name = _check_full_name(full_name)
    if is_active is not None:
        user.is_active = is_active
    if password is not None:
        user.password_hash = hash_password(check_password(password), memory_kib)
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.flush()
    asked = {"full_name": full_name, "password": password, "is_active": is_active}
    changed = [name for name, value in asked.items() if value is not None]
    log.info("user updated", extra={"user_id": user.id, "fields": changed})
    return user


def add_member(session: Session, tenant_id: int, user_id: int, role: str) -> Membership:
    """Give a user a role in a tenant; a second membership in the same tenant conflicts."""
    role = check_role(role)
    user = get_user(session, user_id)
    existing = session.scalar(
        select(Membership.id).where(
            Membership.tenant_id == tenant_id, Membership.user_id == user_id
        )
    )
    if existing is not None:
        raise Conflict("email", "this user is already a member of the tenant")
    membership = Membership(tenant_id=tenant_id, user=user, role=role.value)
    session.add(membership)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("email", "this user is already a member of the tenant") from None
    log.info("member added", extra={"tenant_id": tenant_id, "user_id": user_id, "role": role.value})
    return membership


def add_member_by_email(
    session: Session,
    tenant_id: int,
    *,
    email: str,
    role: str,
    memory_kib: int,
    full_name: str = "",
    password: str | None = None,
) -> Membership:
    """Add the account with this email to a tenant, creating the account if there is none.

    An existing account keeps its name and password: a tenant admin cannot change them.
    """
    check_role(role)
    user = find_user(session, email)
    if user is None:
        if password is None:
            raise Invalid("password", "required when the account is new")
        user = create_user(
            session, email=email, password=password, memory_kib=memory_kib, full_name=full_name
        )
    return add_member(session, tenant_id, user.id, role)


def role_of(session: Session, tenant_id: int, user_id: int) -> Role | None:
    """Return a user's role in a tenant, or None when not a member."""
    role = session.scalar(
        select(Membership.role).where(
            Membership.tenant_id == tenant_id, Membership.user_id == user_id
        )
    )
    return Role(role) if role is not None else None


def get_membership(session: Session, tenant_id: int, user_id: int) -> Membership:
    """Return a user's membership in a tenant (with its user loaded), or raise NotFound."""
    membership = session.scalar(members_query(tenant_id).where(Membership.user_id == user_id))
    if membership is None:
        raise NotFound("user_id", "no such member in this tenant")
    return membership


def members_query(tenant_id: int) -> Select[tuple[Membership]]:
    """Select a tenant's memberships with their users loaded (unordered)."""
    return (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .options(contains_eager(Membership.user))
        .where(Membership.tenant_id == tenant_id)
    )


def set_role(session: Session, tenant_id: int, user_id: int, role: str) -> Membership:
    """Change a member's role; demoting the tenant's last admin is refused."""
    role = check_role(role)
    admins = _lock_admins(session, tenant_id)
    membership = get_membership(session, tenant_id, user_id)
    if role != Role.ADMIN and admins == [membership.id]:
        raise Conflict("role", "a tenant must keep at least one admin")
    membership.role = role.value
    session.flush()
    log.info(
        "member role changed",
        extra={"tenant_id": tenant_id, "user_id": user_id, "role": role.value},
    )
    return membership


def remove_member(session: Session, tenant_id: int, user_id: int) -> None:
    """Remove a user from a tenant (the account stays); the last admin cannot leave."""
    admins = _lock_admins(session, tenant_id)
    membership = get_membership(session, tenant_id, user_id)
    if admins == [membership.id]:
        raise Conflict("user_id", "a tenant must keep at least one admin")
    session.delete(membership)
    session.flush()
    log.info("member removed", extra={"tenant_id": tenant_id, "user_id": user_id})


def _lock_admins(session: Session, tenant_id: int) -> list[int]:
    # Locking every admin row, always in id order, serialises concurrent demotions (so two
    # admins cannot demote each other at once) without deadlocking on PostgreSQL.
    query = (
        select(Membership.id)
        .where(Membership.tenant_id == tenant_id, Membership.role == Role.ADMIN.value)
        .order_by(Membership.id)
        .with_for_update()
    )
    return list(session.scalars(query))
