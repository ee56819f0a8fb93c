"""Object storage for media: one small base class, a local and an S3 backend, one registry.

Public API::

    from warehouse.storage import storage_for, ObjectMissing

    storage = storage_for(settings)          # backend named by media_storage_url, per process
    storage.put(tenant_id, "images/ab12/original.png", data, "image/png")
    storage.get(tenant_id, "images/ab12/original.png")   # bytes, or raises ObjectMissing
    storage.delete(tenant_id, ["images/ab12/original.png"])
    storage.list(tenant_id, "images/ab12")   # keys relative to the tenant

Every key is relative to a tenant and stored under ``tenants/<tenant_id>/``; keys are plain
segments (no ``..``, no leading ``/``), checked by :func:`check_key`. A new backend subclasses
:class:`Storage` (four methods on full keys) and is added to ``registry.BACKENDS``; the S3
backend (:mod:`warehouse.storage.s3`) is imported only when configured, since boto3 is slow to load.
"""

from warehouse.storage.base import (
    ObjectMissing,
    Storage,
    StorageError,
    check_key,
    tenant_key,
)
from warehouse.storage.local import LocalStorage
from warehouse.storage.registry import (
    BACKENDS,
    check_storage_url,
    media_storage_url,
    open_storage,
    storage_for,
)

__all__ = [
    "BACKENDS",
    "LocalStorage",
    "ObjectMissing",
    "Storage",
    "StorageError",
    "check_key",
    "check_storage_url",
    "media_storage_url",
    "open_storage",
    "storage_for",
    "tenant_key",
]
