"""JWT access and refresh tokens: issue, rotate with reuse detection, revoke, prune.

Every refresh token is recorded in ``refresh_tokens``. Tokens rotated from one login share a
family: using a refresh token marks it used and issues the next pair in the same family, and
presenting a token that was already used (or revoked) is treated as theft, so the whole family
is revoked. Rotation runs in a write transaction (SQLite locks at BEGIN, PostgreSQL locks the
row) so two concurrent refreshes with one token cannot both succeed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from serving.db import write_transaction
from serving.errors import forbidden, unauthorized
from warehouse.controldb.models import (
    Membership,
    RefreshToken,
    RevokedAccessToken,
    User,
    utcnow,
)

FAMILY_CLAIM = "fam"
TENANT_CLAIM = "tid"


@dataclass(frozen=True)
class TokenPair:
    """A freshly issued access token and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    expires_in: int
    user_id: int
    tenant_id: int | None


def issue_tokens(
    session: Session, user_id: int, tenant_id: int | None, family_id: str | None = None
) -> TokenPair:
    """Create a token pair and record its refresh token (in a new family unless one is given)."""
    family_id = family_id or uuid.uuid4().hex
    jti = uuid.uuid4().hex
    lifetime: timedelta = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    claims: dict[str, Any] = {FAMILY_CLAIM: family_id}
    if tenant_id is not None:
        claims[TENANT_CLAIM] = tenant_id
    refresh = create_refresh_token(
        str(user_id), expires_delta=lifetime, additional_claims={**claims, "jti": jti}
    )
    session.add(
        RefreshToken(
            jti=jti,
            family_id=family_id,
            user_id=user_id,
            tenant_id=tenant_id,
            expires_at=utcnow() + lifetime,
        )
    )
    access_lifetime: timedelta = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    access = create_access_token(str(user_id), additional_claims=claims)
    return TokenPair(access, refresh, int(access_lifetime.total_seconds()), user_id, tenant_id)


def login_tokens(user_id: int, tenant_id: int | None) -> TokenPair:
    """Start a new token family for a user who just proved their password."""
    with write_transaction() as session:
        return issue_tokens(session, user_id, tenant_id)


def refresh_claims(presented: str, *, allow_expired: bool = False) -> dict[str, Any]:
    """Verify a refresh token's signature, type and (unless allowed) expiry; return its claims."""
    try:
        claims = decode_token(presented, allow_expired=allow_expired)
    except (JWTExtendedException, PyJWTError):
        raise unauthorized("The refresh token is invalid or expired.") from None
    if claims.get("type") != "refresh":
        raise unauthorized("This is not a refresh token.")
    return claims


def rotate_refresh_token(presented: str) -> TokenPair:
    """Exchange a refresh token for a new pair; a reused token revokes its whole family."""
    claims = refresh_claims(presented)
    with write_transaction() as session:
        row = session.scalar(
            select(RefreshToken).where(RefreshToken.jti == claims["jti"]).with_for_update()
        )
        refusal = _refusal(session, row)
        if refusal is None:
            row.used_at = utcnow()
            return issue_tokens(session, row.user_id, row.tenant_id, row.family_id)
        if row is not None:
            revoke_family(session, row.family_id)
    # Raised after the block so the family's revocation is committed, not rolled back.
    raise unauthorized(refusal)


def _refusal(session: Session, row: RefreshToken | None) -> str | None:
    if row is None:
        return "The refresh token is not recognised."
    if row.revoked_at is not None:
        return "The refresh token has been revoked."
    if row.used_at is not None:
        return "The refresh token was already used; the session has been ended for safety."
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return "The account no longer exists or is disabled."
    if row.tenant_id is not None and not user.is_platform_admin:
        member = session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id, Membership.tenant_id == row.tenant_id
            )
        )
        if member is None:
            return "You are no longer a member of this tenant."
    return None


def revoke_family(session: Session, family_id: str) -> None:
    """Revoke every refresh token of a family (a login and all its rotations)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_user_tokens(session: Session, user_id: int) -> None:
    """Revoke all of a user's refresh tokens (password change, account disabled)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_access_token(session: Session, claims: dict[str, Any]) -> None:
    """Refuse an access token until it expires; revoking twice is harmless."""
    values = {"jti": claims["jti"], "expires_at": datetime.fromtimestamp(claims["exp"], UTC)}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(RevokedAccessToken).values(values).on_conflict_do_nothing())


def logout(access_claims: dict[str, Any] | None, refresh_token: str | None) -> None:
    """End a token session: revoke the access token and the refresh family (from either)."""
    if access_claims is None and not refresh_token:
        raise unauthorized("Send the access token or the refresh token to log out.")
    families = set()
    if access_claims is not None and access_claims.get(FAMILY_CLAIM):
        families.add(access_claims[FAMILY_CLAIM])
    if refresh_token:
        # An expired refresh token still names the family the caller wants ended.
        claims = refresh_claims(refresh_token, allow_expired=True)
        if access_claims is not None and claims["sub"] != access_claims["sub"]:
            raise forbidden("The refresh token belongs to another user.")
        families.add(claims.get(FAMILY_CLAIM))
    with write_transaction() as session:
        if access_claims is not None:
            revoke_access_token(session, access_claims)
        for family_id in families - {None}:
            revoke_family(session, family_id)


def prune_expired(session: Session, now: datetime | None = None) -> int:
    """Delete refresh and revoked-access rows past their expiry; return how many went."""
    now = now or utcnow()
    removed = 0
    for model in (RefreshToken, RevokedAccessToken):
        result = session.execute(delete(model).where(model.expires_at < now))
        removed += result.rowcount or 0
    return removed
