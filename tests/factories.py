"""Builders for control-plane objects and the credentials tests send."""

from __future__ import annotations

import itertools
from typing import Any

from flask import Flask
from flask_jwt_extended import create_access_token
from sqlalchemy import select

from warehouse.controldb import transaction
from warehouse.controldb.models import (
    Membership,
    RefreshToken,
    Role,
    Tenant,
    TenantStatus,
    User,
)
from warehouse.controlplane import apikeys
from warehouse.controlplane.passwords import hash_password

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


class Factory:
    """Each method commits its object and returns it (or the credential headers)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.sessions = app.extensions["shoplake.sessions"]
        self.memory_kib = app.config["SHOPLAKE"].password_hash_memory_kib

    def tenant(self, slug: str | None = None, **fields: Any) -> Tenant:
        slug = slug or f"tenant{next(_counter)}"
        with transaction(self.sessions) as session:
            tenant = Tenant(slug=slug, name=fields.pop("name", slug.title()), **fields)
            session.add(tenant)
        return tenant

    def user(
        self,
        email: str | None = None,
        *,
        tenant: Tenant | None = None,
        role: Role | str = Role.ADMIN,
        platform_admin: bool = False,
    ) -> User:
        email = email or f"user{next(_counter)}@example.com"
        with transaction(self.sessions) as session:
            user = User(
                email=email,
                full_name=email.split("@")[0],
                password_hash=hash_password(PASSWORD, self.memory_kib),
                is_platform_admin=platform_admin,
            )
            session.add(user)
            session.flush()
            if tenant is not None:
                session.add(Membership(user_id=user.id, tenant_id=tenant.id, role=str(role)))
        return user

    def api_key(
        self, tenant: Tenant, scopes: tuple[str, ...] = ("read", "write", "ingest"), **kwargs: Any
    ) -> str:
        with transaction(self.sessions) as session:
            issued = apikeys.create_key(session, tenant.id, "test key", list(scopes), **kwargs)
        return issued.secret

    def key_headers(self, tenant: Tenant, *scopes: str) -> dict[str, str]:
        return {"X-API-Key": self.api_key(tenant, scopes or ("read", "write", "ingest"))}

    def access_token(self, user: User, tenant: Tenant | None = None) -> str:
        with self.app.app_context():
            claims = {"tid": tenant.id} if tenant is not None else {}
            return create_access_token(identity=str(user.id), additional_claims=claims)

    def bearer(self, user: User, tenant: Tenant | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(user, tenant)}"}

    def membership(self, user: User, tenant: Tenant, role: Role | str = Role.ADMIN) -> None:
        with transaction(self.sessions) as session:
            session.add(Membership(user_id=user.id, tenant_id=tenant.id, role=str(role)))

    def tenant_status(self, tenant: Tenant, status: TenantStatus | str) -> None:
        with transaction(self.sessions) as session:
            session.get(Tenant, tenant.id).status = str(status)

    def user_active(self, user: User, active: bool) -> None:
        with transaction(self.sessions) as session:
            session.get(User, user.id).is_active = active

    def refresh_tokens(self, user: User) -> list[RefreshToken]:
        """Return a user's recorded refresh tokens, oldest first."""
        with transaction(self.sessions) as session:
            query = select(RefreshToken).where(RefreshToken.user_id == user.id)
            return list(session.scalars(query.order_by(RefreshToken.issued_at)))
