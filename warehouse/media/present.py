"""How an image is shown to API clients, and the batch lookup the products API uses.

Storage keys stay internal: clients get each rendition's size, type and two links - the API
path (credentials of the owning tenant) and, when a signer is given, a signed expiring URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.controldb.models import ProductImage
from warehouse.media.limits import NAMES
from warehouse.media.signing import UrlSigner
from warehouse.media.urls import image_path

# Bound parameters per IN list, well under every driver's limit.
_CHUNK = 500


def describe(image: ProductImage, signer: UrlSigner | None = None) -> dict[str, Any]:
    """Return the JSON-ready description of one image."""
    return {
        "id": image.id,
        "product_id": image.product_id,
        "position": image.position,
        "is_primary": image.is_primary,
        "filename": image.filename,
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
        "checksum": image.checksum,
        "created_at": image.created_at.isoformat(),
        "renditions": {
            name: _rendition(image, name, signer) for name in NAMES if name in image.renditions
        },
    }


def _rendition(image: ProductImage, name: str, signer: UrlSigner | None) -> dict[str, Any]:
    stored = image.renditions[name]
    shown: dict[str, Any] = {
        "width": stored["width"],
        "height": stored["height"],
        "bytes": stored["bytes"],
        "content_type": stored["content_type"],
        "url": image_path(image.product_id, image.id, name),
    }
    if signer is not None:
        signed = signer.sign(image.tenant_id, image.id, name)
        shown["signed_url"] = signed.url
        shown["signed_url_expires_at"] = signed.expires_at.isoformat()
    return shown


def images_for(
    session: Session,
    tenant_id: int,
    product_ids: Iterable[str],
    signer: UrlSigner | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Return the images of several products of one tenant: product id -> images in order.

    Every requested id is a key (an empty list when the product has no image). This is what
    the products API puts in each product's ``images``.
    """
    wanted = list(dict.fromkeys(product_ids))
    found: dict[str, list[dict[str, Any]]] = {product_id: [] for product_id in wanted}
    for start in range(0, len(wanted), _CHUNK):
        query = (
            select(ProductImage)
            .where(
                ProductImage.tenant_id == tenant_id,
                ProductImage.product_id.in_(wanted[start : start + _CHUNK]),
            )
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
        )
        for image in session.scalars(query):
            found[image.product_id].append(describe(image, signer))
    return found
