"""Request and response models for /api/v1/keys/ (the tenant's integration keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from serving.api import Body, Out
from serving.pagination import Paginated

Scope = Literal["ingest", "read", "write", "admin"]


class KeyCreate(Body):
    name: str = Field(min_length=1, max_length=200, description="What the key is for.")
    scopes: list[Scope] = Field(min_length=1, description="What the key may do.")
    expires_at: AwareDatetime | None = Field(None, description="Optional expiry, with time zone.")


class KeyOut(Out):
    """A key's metadata; the secret and its hash are never shown again after creation."""

    id: int
    prefix: str
    name: str
    scopes: list[str]
    created_by_user_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The full key. Shown only in this response: store it now.")


class KeyPage(Paginated[KeyOut]):
    pass
