"""API keys for integrations: random secrets shown once, stored as SHA-256, scoped, revocable.

A key reads ``sl_<prefix>_<secret>``: the prefix finds the row without a scan, the secret is
compared in constant time against its hash. Keys are 256-bit random, so a fast hash is safe
(unlike passwords, there is nothing to brute-force).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from warehouse.controldb.models import ApiKey, utcnow
from warehouse.controlplane.errors import Invalid, NotFound

SCOPES = ("ingest", "read", "write", "admin")
# Writing last_used_at on every request would turn each read into a write; a minute is enough.
LAST_USED_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: ``secret`` is the only time the full key is available."""

    key: ApiKey
    secret: str


def digest(secret: str) -> str:
    """Return the stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session,
    tenant_id: int,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    created_by_user_id: int | None = None,
) -> IssuedKey:
    """Create a key for a tenant; the returned secret is never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(
            "scopes",
            f"choose from {', '.join(SCOPES)}" + (f"; unknown {unknown}" if unknown else ""),
        )
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("expires_at", "must be in the future")
    prefix = secrets.token_hex(6)
    secret = f"sl_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        tenant_id=tenant_id,
        name=name,
        prefix=prefix,
        key_hash=digest(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by_user_id=created_by_user_id,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key, secret)


def verify_key(session: Session, presented: str) -> ApiKey | None:
    """Return the live key matching ``presented``, or None (unknown, wrong, expired, revoked).

    The key's tenant is loaded by the same query: every caller checks it next.
    """
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "sl":
        return None
    query = select(ApiKey).where(ApiKey.prefix == parts[1]).options(joinedload(ApiKey.tenant))
    key = session.scalar(query)
    if key is None or not hmac.compare_digest(key.key_hash, digest(presented)):
        return None
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    return key


def needs_touch(last_used_at: datetime | None) -> bool:
    """Tell whether a key last used at ``last_used_at`` is due a new last-used time."""
    return last_used_at is None or utcnow() - last_used_at >= LAST_USED_GRANULARITY


def touch(session: Session, key: ApiKey) -> None:
    """Record use of a key, at most once per :data:`LAST_USED_GRANULARITY`."""
    if needs_touch(key.last_used_at):
        key.last_used_at = utcnow()


def list_keys(session: Session, tenant_id: int) -> list[ApiKey]:
    """Return a tenant's keys, newest first (hashes never leave this module's callers)."""
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.id.desc())
    return list(session.scalars(query))


def revoke_key(session: Session, tenant_id: int, key_id: int) -> ApiKey:
    """Revoke a tenant's key; revoking twice is harmless."""
    key = session.get(ApiKey, key_id)
    if key is None or key.tenant_id != tenant_id:
        raise NotFound("key_id", "no such key in this tenant")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
