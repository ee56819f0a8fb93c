"""Choose the storage backend from settings: one explicit registry of URL schemes.

``media_storage_url`` names the backend: empty or ``file:///abs/dir`` for a local directory,
``s3://bucket/prefix`` for an S3-compatible bucket (endpoint and credentials from the
``media_s3_*`` settings). :func:`storage_for` caches one backend per process and configuration,
so a forked server worker builds its own S3 client instead of inheriting the parent's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from warehouse.config import Settings, SettingsError
from warehouse.storage.base import Storage
from warehouse.storage.local import LocalStorage

_cache: dict[tuple, Storage] = {}
_lock = threading.Lock()


def media_storage_url(settings: Settings) -> str:
    """Return the configured media storage URL, defaulting to ``<var_dir>/media``."""
    return settings.media_storage_url or (settings.var_dir / "media").resolve().as_uri()


def _local(url: str, _settings: Settings) -> Storage:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise SettingsError(f"SHOPLAKE_MEDIA_STORAGE_URL: file URLs name a local path: {url!r}")
    return LocalStorage(Path(unquote(parts.path)))


def _s3(url: str, settings: Settings) -> Storage:
    # Imported here: boto3 takes a second or two to import, and most processes never need it.
    import boto3
    from botocore.config import Config

    from warehouse.storage.s3 import S3Storage

    parts = urlsplit(url)
    if not parts.netloc:
        raise SettingsError(f"SHOPLAKE_MEDIA_STORAGE_URL: no bucket in {url!r}")
    credentials = {}
    if settings.media_s3_access_key_id:
        credentials = {
            "aws_access_key_id": settings.media_s3_access_key_id,
            "aws_secret_access_key": settings.media_s3_secret_access_key,
        }
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.media_s3_endpoint_url or None,
        region_name=settings.media_s3_region,
        config=Config(
            s3={"addressing_style": "path"},  # S3-compatible servers rarely resolve subdomains
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
        **credentials,
    )
    return S3Storage(client, parts.netloc, unquote(parts.path))


BACKENDS: dict[str, Callable[[str, Settings], Storage]] = {"file": _local, "s3": _s3}


def check_storage_url(settings: Settings) -> str:
    """Return the scheme of the configured media storage; raise SettingsError if unknown."""
    scheme = urlsplit(media_storage_url(settings)).scheme
    if scheme not in BACKENDS:
        raise SettingsError(
            f"SHOPLAKE_MEDIA_STORAGE_URL: unknown scheme {scheme!r}; use {', '.join(BACKENDS)}"
        )
    return scheme


def open_storage(settings: Settings) -> Storage:
    """Build the storage backend the settings name (a new one on every call)."""
    return BACKENDS[check_storage_url(settings)](media_storage_url(settings), settings)


def storage_for(settings: Settings) -> Storage:
    """Return this process's backend for the settings (built once, then reused)."""
    key = (
        os.getpid(),
        media_storage_url(settings),
        settings.media_s3_endpoint_url,
        settings.media_s3_region,
        settings.media_s3_access_key_id,
        settings.media_s3_secret_access_key,
    )
    with _lock:
        if key not in _cache:
            _cache[key] = open_storage(settings)
        return _cache[key]
