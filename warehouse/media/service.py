"""Upload and delete product images: validate, render, store the objects, record the catalog.

Order of work for an upload: decode and render every file in memory (nothing is stored if one
is refused, for a synchronous upload); skip bytes the product already has; write the rendition
objects; then record the images in one short write transaction. Objects written for an image
that loses a race to an identical concurrent upload are deleted again, and objects are only
deleted from storage after the catalog rows are gone, so no recorded image points at nothing.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from warehouse.config import Settings
from warehouse.controldb import transaction
from warehouse.controldb.models import ProductImage
from warehouse.media import catalog
from warehouse.media.errors import ImageRejected, ImagesRefused, Refusal
from warehouse.media.formats import FORMATS
from warehouse.media.limits import Limits
from warehouse.storage import Storage, StorageError, storage_for

if TYPE_CHECKING:
    from warehouse.media.renditions import Rendition

log = logging.getLogger("shoplake.media")


@dataclass(frozen=True)
class MediaEnv:
    """What media services need: control DB sessions, object storage, limits, the lake."""

    sessions: sessionmaker[Session]
    storage: Storage
    limits: Limits
    lake_root: Path

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker[Session]) -> MediaEnv:
        """Build the environment for ``settings`` (storage shared within the process)."""
        return cls(
            sessions, storage_for(settings), Limits.from_settings(settings), settings.lake_root
        )


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the client sent it."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Prepared:
    """An accepted upload with its renditions encoded, not yet stored."""

    index: int
    upload: Upload
    checksum: str
    format: str
    width: int
    height: int
    renditions: list[Rendition]


@dataclass(frozen=True)
class FileResult:
    """What became of one file: ``created``, ``duplicate`` (already stored) or ``refused``."""

    index: int
    filename: str
    status: str
    image: ProductImage | None = None
    reason: str | None = None


def checksum_of(data: bytes) -> str:
    """Return the SHA-256 hex digest identifying uploaded bytes."""
    return hashlib.sha256(data).hexdigest()


def prepare(index: int, upload: Upload, limits: Limits) -> Prepared:
    """Validate and render one upload; raise ImageRejected if it is not acceptable."""
    # Pillow is loaded by the first upload, not by every API worker at start.
    from warehouse.media.decode import decode
    from warehouse.media.renditions import render_all

    decoded = decode(upload.data, upload.filename, upload.content_type, limits)
    width, height = decoded.size
    renditions = render_all(decoded)
    return Prepared(
        index, upload, checksum_of(upload.data), decoded.format, width, height, renditions
    )


def prepare_all(uploads: list[Upload], limits: Limits) -> list[Prepared]:
    """Validate and render every upload; raise ImagesRefused listing all refused files."""
    prepared, refusals = [], []
    for index, upload in enumerate(uploads):
        try:
            prepared.append(prepare(index, upload, limits))
        except ImageRejected as exc:
            refusals.append(Refusal(index, upload.filename, exc.reason))
    if refusals:
        raise ImagesRefused(refusals)
    return prepared


def upload_images(
    env: MediaEnv, tenant_id: int, product_id: str, uploads: list[Upload]
) -> list[FileResult]:
    """Store every upload or, if any is refused, none (raises ImagesRefused)."""
    return store(env, tenant_id, product_id, prepare_all(uploads, env.limits))


def store(
    env: MediaEnv, tenant_id: int, product_id: str, prepared: list[Prepared]
) -> list[FileResult]:
    """Store prepared images not yet on the product and record them; results in input order."""
    with env.sessions() as session:
        known = catalog.by_checksum(session, tenant_id, product_id, (p.checksum for p in prepared))
    fresh: dict[str, tuple[Prepared, catalog.NewImage]] = {}
    try:
        for item in prepared:
            if item.checksum not in known and item.checksum not in fresh:
                fresh[item.checksum] = (item, _write_objects(env.storage, tenant_id, item))
        with transaction(env.sessions, write=True) as session:
            added = catalog.add_images(
                session, tenant_id, product_id, [new for _item, new in fresh.values()]
            )
    except BaseException:
        _drop_objects(env.storage, tenant_id, [new for _item, new in fresh.values()])
        raise
    # An identical upload recorded meanwhile won: the objects written here are not needed.
    news = [new for _item, new in fresh.values()]
    _drop_objects(
        env.storage, tenant_id, [n for n, (_i, ok) in zip(news, added, strict=True) if not ok]
    )
    recorded = {image.checksum: (image, created) for image, created in added}
    return [_result(item, known, recorded, fresh) for item in prepared]


def _result(item: Prepared, known: dict, recorded: dict, fresh: dict) -> FileResult:
    name = item.upload.filename
    if item.checksum in known:
        return FileResult(item.index, name, "duplicate", known[item.checksum])
    image, created = recorded[item.checksum]
    first = fresh[item.checksum][0] is item
    status = "created" if created and first else "duplicate"
    return FileResult(item.index, name, status, image)


def _write_objects(storage: Storage, tenant_id: int, item: Prepared) -> catalog.NewImage:
    image_id = uuid.uuid4().hex
    renditions: dict[str, dict] = {}
    try:
        for rendition in item.renditions:
            key = f"images/{image_id}/{rendition.name}.{rendition.extension}"
            storage.put(tenant_id, key, rendition.data, rendition.content_type)
            renditions[rendition.name] = {
                "key": key,
                "width": rendition.width,
                "height": rendition.height,
                "bytes": len(rendition.data),
                "content_type": rendition.content_type,
                "etag": rendition.etag,
            }
    except BaseException:
        delete_quietly(storage, tenant_id, [r["key"] for r in renditions.values()])
        raise
    return catalog.NewImage(
        image_id,
        item.checksum,
        item.upload.filename,
        FORMATS[item.format][0],
        item.width,
        item.height,
        len(item.upload.data),
        renditions,
    )


def _drop_objects(storage: Storage, tenant_id: int, images: list[catalog.NewImage]) -> None:
    keys = [r["key"] for image in images for r in image.renditions.values()]
    delete_quietly(storage, tenant_id, keys)


def delete_quietly(storage: Storage, tenant_id: int, keys: list[str]) -> None:
    """Delete objects, logging (not raising) a storage failure: cleanup after another error."""
    try:
        storage.delete(tenant_id, keys)
    except StorageError:
        log.exception("could not delete orphaned media objects", extra={"keys": keys[:10]})


def rendition_keys(images: list[ProductImage]) -> list[str]:
    """Return the storage keys of every rendition of ``images``."""
    return [r["key"] for image in images for r in image.renditions.values()]


def delete_images(
    env: MediaEnv, tenant_id: int, product_id: str, image_ids: list[str] | None = None
) -> list[ProductImage]:
    """Delete some (None: all) images of a product with every rendition; return them."""
    with transaction(env.sessions, write=True) as session:
        removed = catalog.remove_images(session, tenant_id, product_id, image_ids)
    env.storage.delete(tenant_id, rendition_keys(removed))
    return removed
