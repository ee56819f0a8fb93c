"""The image catalog in the control DB: which images a product has, their order and primary.

Every function takes the tenant id and filters by it (and by product), so an image id of
another tenant simply does not exist here. Writes run in the caller's write transaction and
first take :func:`lock_product`, which serialises changes to one product's images: SQLite's
write transaction already does (BEGIN IMMEDIATE); on PostgreSQL a transaction-scoped advisory
lock does, since there is no product row here to lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from warehouse.controldb.models import ProductImage
from warehouse.media.errors import ImageNotFound, InvalidOrder


@dataclass(frozen=True)
class NewImage:
    """What is known about an image whose renditions are already stored."""

    id: str
    checksum: str
    filename: str
    format: str
    width: int
    height: int
    bytes: int
    renditions: dict[str, dict[str, Any]]


def lock_product(session: Session, tenant_id: int, product_id: str) -> None:
    """Serialise image changes of one product until the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"product-images\n{tenant_id}\n{product_id}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("select pg_advisory_xact_lock(:key)"), {"key": key})


def _of_product(tenant_id: int, product_id: str):
    return select(ProductImage).where(
        ProductImage.tenant_id == tenant_id, ProductImage.product_id == product_id
    )


def images_of(session: Session, tenant_id: int, product_id: str) -> list[ProductImage]:
    """Return a product's images, in display order."""
    query = _of_product(tenant_id, product_id).order_by(ProductImage.position, ProductImage.id)
    return list(session.scalars(query))


def get_image(session: Session, tenant_id: int, product_id: str, image_id: str) -> ProductImage:
    """Return one image of a product, or raise ImageNotFound."""
    image = session.scalar(_of_product(tenant_id, product_id).where(ProductImage.id == image_id))
    if image is None:
        raise ImageNotFound("image_id", f"no image {image_id!r} on this product")
    return image


def tenant_image(session: Session, tenant_id: int, image_id: str) -> ProductImage | None:
    """Return an image of the tenant by id alone (for signed URLs), or None."""
    query = select(ProductImage).where(
        ProductImage.tenant_id == tenant_id, ProductImage.id == image_id
    )
    return session.scalar(query)


def by_checksum(
    session: Session, tenant_id: int, product_id: str, checksums: Iterable[str]
) -> dict[str, ProductImage]:
    """Return the product's images that have one of ``checksums``, by checksum."""
    wanted = list(set(checksums))
    if not wanted:
        return {}
    query = _of_product(tenant_id, product_id).where(ProductImage.checksum.in_(wanted))
    return {image.checksum: image for image in session.scalars(query)}


def add_images(
    session: Session, tenant_id: int, product_id: str, new: list[NewImage]
) -> list[tuple[ProductImage, bool]]:
    """Append images to a product; return each with True if added, False if already there.

    An image whose checksum the product already has is not added (the existing one is
    returned). The first image of a product without a primary becomes its primary.
    """
    lock_product(session, tenant_id, product_id)
    existing = by_checksum(session, tenant_id, product_id, (n.checksum for n in new))
    current = images_of(session, tenant_id, product_id)
    position = max((image.position for image in current), default=-1) + 1
    needs_primary = not any(image.is_primary for image in current)
    results: list[tuple[ProductImage, bool]] = []
    for item in new:
        if item.checksum in existing:
            results.append((existing[item.checksum], False))
            continue
        image = ProductImage(
            tenant_id=tenant_id,
            product_id=product_id,
            position=position,
            is_primary=needs_primary,
            **asdict(item),
        )
        session.add(image)
        existing[item.checksum] = image
        position, needs_primary = position + 1, False
        results.append((image, True))
    session.flush()
    return results


def set_primary(session: Session, tenant_id: int, product_id: str, image_id: str) -> ProductImage:
    """Make one image the product's primary image (and no other)."""
    lock_product(session, tenant_id, product_id)
    image = get_image(session, tenant_id, product_id, image_id)
    # Clear the old primary first: the partial unique index allows one at any moment.
    session.execute(
        update(ProductImage)
        .where(
            ProductImage.tenant_id == tenant_id,
            ProductImage.product_id == product_id,
            ProductImage.is_primary.is_(True),
            ProductImage.id != image_id,
        )
        .values(is_primary=False)
        .execution_options(synchronize_session="fetch")
    )
    image.is_primary = True
    session.flush()
    return image


def reorder(
    session: Session, tenant_id: int, product_id: str, image_ids: list[str]
) -> list[ProductImage]:
    """Put a product's images in the given order; every image must be named exactly once."""
    lock_product(session, tenant_id, product_id)
    images = {image.id: image for image in images_of(session, tenant_id, product_id)}
    if len(set(image_ids)) != len(image_ids):
        raise InvalidOrder("image_ids", "an image is named more than once")
    unknown = [image_id for image_id in image_ids if image_id not in images]
    if unknown:
        raise InvalidOrder("image_ids", f"not images of this product: {', '.join(unknown)}")
    missing = sorted(set(images) - set(image_ids))
    if missing:
        raise InvalidOrder("image_ids", f"missing images of this product: {', '.join(missing)}")
    for position, image_id in enumerate(image_ids):
        images[image_id].position = position
    session.flush()
    return [images[image_id] for image_id in image_ids]


def remove_images(
    session: Session, tenant_id: int, product_id: str, image_ids: list[str] | None = None
) -> list[ProductImage]:
    """Delete some (or, with None, all) images of a product; return them.

    Positions close up, and if the primary went, the first remaining image becomes primary.
    """
    lock_product(session, tenant_id, product_id)
    images = images_of(session, tenant_id, product_id)
    if image_ids is not None:
        known = {image.id for image in images}
        for image_id in image_ids:
            if image_id not in known:
                raise ImageNotFound("image_id", f"no image {image_id!r} on this product")
    doomed = [i for i in images if image_ids is None or i.id in image_ids]
    for image in doomed:
        session.delete(image)
    session.flush()
    _close_up([i for i in images if i not in doomed])
    session.flush()
    return doomed


def _close_up(remaining: list[ProductImage]) -> None:
    for position, image in enumerate(remaining):
        image.position = position
    if remaining and not any(image.is_primary for image in remaining):
        remaining[0].is_primary = True
