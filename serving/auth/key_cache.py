"""API keys this worker verified recently, so most requests skip the control DB.

Verifying a key and loading its tenant were the largest part of a cached dashboard request
(two ORM queries). A worker now trusts what it verified for ``auth_cache_seconds``:

* a change committed through this process (revoking a key, suspending or editing a tenant)
  drops the tenant's entries at once (:func:`watch_sessions`);
* a change committed by another worker, node or tool is seen within ``auth_cache_seconds``;
* expiry is exact: a cached key is refused the moment its ``expires_at`` passes.

``auth_cache_seconds = 0`` checks the control DB on every request. Entries are keyed by the
SHA-256 of the presented key (what the control DB stores), never by the key itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb.models import ApiKey, Tenant

# Bounds memory against callers cycling through many valid keys; a full cache starts over.
MAX_ENTRIES = 10_000
CHANGED_TENANTS = "shoplake.changed_tenants"
EXTENSION = "shoplake.key_cache"
IGNORED_KEY_CHANGES = frozenset({"last_used_at"})


@dataclass
class VerifiedKey:
    """What a request needs from a verified key: who it is, its tenant, and its limits."""

    key_id: int
    tenant: Tenant  # detached: merged into each request's session, never changed in place
    scopes: frozenset[str]
    expires_at: datetime | None
    last_used_at: datetime | None
    verified_at: float = field(default=0.0)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class KeyCache:
    """Verified keys by digest, each trusted for ``ttl_seconds`` after it was read."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._entries: dict[str, VerifiedKey] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def get(self, digest: str) -> VerifiedKey | None:
        """Return the entry for ``digest`` while it is fresh, else None."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self.clock() - entry.verified_at >= self.ttl_seconds:
            self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, entry: VerifiedKey) -> None:
        """Remember a key just verified against the control DB."""
        if not self.enabled:
            return
        entry.verified_at = self.clock()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = entry

    def drop(self, digest: str) -> None:
        self._entries.pop(digest, None)

    def drop_tenants(self, tenant_ids: Iterable[int]) -> None:
        """Forget every key of these tenants (a key or the tenant itself changed)."""
        doomed = set(tenant_ids)
        if not doomed:
            return
        with self._lock:
            for digest, entry in list(self._entries.items()):
                if entry.tenant.id in doomed:
                    del self._entries[digest]


def watch_sessions(factory: sessionmaker[Session], cache: KeyCache) -> None:
    """Drop cached keys when a session of ``factory`` commits a change to a key or tenant."""

    @event.listens_for(factory, "after_flush")
    def _note_changes(session: Session, _context) -> None:
        # Attribute history still holds the flushed changes here (it is reset afterwards).
        changed = session.info.setdefault(CHANGED_TENANTS, set())
        for obj in session.deleted:
            if isinstance(obj, Tenant | ApiKey):
                changed.add(_tenant_of(obj))
        for obj in session.dirty:
            if isinstance(obj, Tenant) or (isinstance(obj, ApiKey) and _more_than_use(obj)):
                changed.add(_tenant_of(obj))

    @event.listens_for(factory, "after_commit")
    def _drop_changed(session: Session) -> None:
        cache.drop_tenants(session.info.pop(CHANGED_TENANTS, ()))

    @event.listens_for(factory, "after_rollback")
    def _forget_changes(session: Session) -> None:
        session.info.pop(CHANGED_TENANTS, None)


def _tenant_of(obj: Tenant | ApiKey) -> int:
    return obj.id if isinstance(obj, Tenant) else obj.tenant_id


def _more_than_use(key: ApiKey) -> bool:
    # Recording a key's last use changes nothing a cached entry decides on.
    state = inspect(key)
    return any(
        attr.history.has_changes() for attr in state.attrs if attr.key not in IGNORED_KEY_CHANGES
    )


def init_key_cache(app: Flask, sessions: sessionmaker[Session]) -> None:
    """Give ``app`` its worker's key cache, emptied by what ``sessions`` commit."""
    cache = KeyCache(app.config["SHOPLAKE"].auth_cache_seconds)
    watch_sessions(sessions, cache)
    app.extensions[EXTENSION] = cache


def key_cache() -> KeyCache:
    """Return the running app's key cache."""
    return current_app.extensions[EXTENSION]
