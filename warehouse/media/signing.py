"""Signed, expiring rendition URLs that work without credentials (for dashboards to embed).

The signature is an HMAC-SHA256, under a key derived from the app secret for this one purpose,
over the tenant, image, rendition and expiry - so a signature is valid for exactly that path
until that time, and moving it to another tenant's or image's path breaks it. Expiry times are
rounded up to :data:`ROUND_SECONDS`, so one image's URL stays the same for a while and browsers
can cache it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from warehouse.media.urls import signed_base

ROUND_SECONDS = 300
_PURPOSE = b"shoplake media url v1"


class SignatureProblem(Exception):
    """A signed URL is expired, malformed, or not signed for this path."""


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime


class UrlSigner:
    """Sign and verify rendition URLs with a secret; ``ttl_seconds`` is their lifetime."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
        self.ttl_seconds = ttl_seconds

    def signature(self, tenant_id: int, image_id: str, rendition: str, expires: int) -> str:
        """Return the hex signature of one rendition path until ``expires`` (Unix seconds)."""
        message = f"{tenant_id}\n{image_id}\n{rendition}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(
        self, tenant_id: int, image_id: str, rendition: str, now: float | None = None
    ) -> SignedUrl:
        """Return a signed URL for a rendition, valid at least ``ttl_seconds`` from ``now``."""
        now = time.time() if now is None else now
        expires = math.ceil((now + self.ttl_seconds) / ROUND_SECONDS) * ROUND_SECONDS
        query = urlencode(
            {
                "expires": expires,
                "signature": self.signature(tenant_id, image_id, rendition, expires),
            }
        )
        return SignedUrl(
            f"{signed_base(tenant_id, image_id, rendition)}?{query}",
            datetime.fromtimestamp(expires, UTC),
        )

    def verify(
        self,
        tenant_id: int,
        image_id: str,
        rendition: str,
        expires: str | None,
        signature: str | None,
        now: float | None = None,
    ) -> int:
        """Return the seconds a valid URL has left; raise SignatureProblem otherwise."""
        now = time.time() if now is None else now
        if not (expires and signature and expires.isascii() and signature.isascii()):
            raise SignatureProblem("the URL carries no valid expires and signature parameters")
        if not expires.isdigit():
            raise SignatureProblem("the URL carries no valid expires and signature parameters")
        expected = self.signature(tenant_id, image_id, rendition, int(expires))
        if not hmac.compare_digest(expected, signature.lower()):
            raise SignatureProblem("the signature does not match this URL")
        remaining = int(expires) - int(now)
        if remaining <= 0:
            raise SignatureProblem("the signed URL has expired")
        return remaining
