"""The storage extension point: a small base class every backend implements, keyed by tenant.

Callers never build full object keys. They name a tenant and a key *relative to it*
(``images/<id>/thumbnail.webp``); :func:`tenant_key` puts every object under
``tenants/<tenant_id>/``, so one tenant's request can only ever name its own objects, whatever
the relative key holds - the physical fence of tenant isolation, as in the lake.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable

TENANTS_PREFIX = "tenants"
MAX_KEY_CHARS = 512
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


class StorageError(RuntimeError):
    """The backend failed (unreachable, refused credentials, disk full)."""


class ObjectMissing(StorageError, LookupError):
    """No object is stored under the key."""


def check_tenant_id(tenant_id: int) -> int:
    """Return ``tenant_id`` if it is a positive int (bools and strings are refused)."""
    if type(tenant_id) is not int or tenant_id <= 0:
        raise ValueError(f"tenant_id must be a positive int, got {tenant_id!r}")
    return tenant_id


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key: plain segments, no ``..``, no leading ``/``."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_CHARS:
        raise ValueError(f"invalid storage key {key!r}")
    if not all(_SEGMENT.match(part) for part in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def tenant_key(tenant_id: int, key: str) -> str:
    """Return the backend key of ``key`` for ``tenant_id`` (``tenants/<id>/<key>``)."""
    return f"{TENANTS_PREFIX}/{check_tenant_id(tenant_id)}/{check_key(key)}"


def tenant_prefix(tenant_id: int, prefix: str = "") -> str:
    """Return the backend prefix of a tenant's keys starting with ``prefix``."""
    base = f"{TENANTS_PREFIX}/{check_tenant_id(tenant_id)}/"
    return base + (check_key(prefix.rstrip("/")) + "/" if prefix else "")


class Storage(ABC):
    """Tenant-scoped object storage. Subclasses implement the four ``_`` methods on full keys."""

    scheme: str = ""

    def put(self, tenant_id: int, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under a tenant's ``key``; once this returns, the object is durable."""
        self._put(tenant_key(tenant_id, key), data, content_type)

    def get(self, tenant_id: int, key: str) -> bytes:
        """Return the bytes stored under a tenant's ``key``; raise ObjectMissing if none."""
        return self._get(tenant_key(tenant_id, key))

    def delete(self, tenant_id: int, keys: Iterable[str]) -> None:
        """Delete a tenant's objects; keys already gone are not an error."""
        full = [tenant_key(tenant_id, key) for key in keys]
        if full:
            self._delete(full)

    def list(self, tenant_id: int, prefix: str = "") -> list[str]:
        """Return a tenant's keys under ``prefix`` (relative to the tenant), sorted."""
        base = tenant_prefix(tenant_id)
        return sorted(key[len(base) :] for key in self._list(tenant_prefix(tenant_id, prefix)))

    @abstractmethod
    def _put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abstractmethod
    def _delete(self, keys: list[str]) -> None: ...

    @abstractmethod
    def _list(self, prefix: str) -> Iterable[str]: ...
