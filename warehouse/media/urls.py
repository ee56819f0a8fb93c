"""Where an image's renditions are served: the authenticated API path and the signed one.

The serving blueprint's routes are built from these templates too (a test checks they agree),
so links handed out here always point at a real route.
"""

from __future__ import annotations

from urllib.parse import quote

IMAGE_PATH = "/api/v1/products/{product_id}/images/{image_id}/{rendition}"
SIGNED_PATH = "/api/v1/media/{tenant_id}/images/{image_id}/{rendition}"


def image_path(product_id: str, image_id: str, rendition: str) -> str:
    """Return the API path of a rendition (needs credentials of the owning tenant)."""
    return IMAGE_PATH.format(
        product_id=quote(product_id, safe=""), image_id=image_id, rendition=rendition
    )


def signed_base(tenant_id: int, image_id: str, rendition: str) -> str:
    """Return the path of a rendition's signed URL, before its query string."""
    return SIGNED_PATH.format(tenant_id=tenant_id, image_id=image_id, rendition=rendition)
