"""Request and response models for product images (/api/v1/products/<id>/images/...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from serving.api import Body, Out


class RenditionOut(Out):
    """One stored rendition: its size and type, and where to get its bytes."""

    width: int
    height: int
    bytes: int
    content_type: str
    url: str = Field(description="API path; needs credentials of the owning tenant.")
    signed_url: str | None = Field(None, description="Works without credentials until expiry.")
    signed_url_expires_at: datetime | None = None


class ImageOut(Out):
    """A product image: the uploaded file's format, size and checksum, and its renditions."""

    id: str
    product_id: str
    position: int
    is_primary: bool
    filename: str
    format: Literal["jpeg", "png", "webp", "gif"]
    width: int
    height: int
    bytes: int = Field(description="Size of the uploaded file.")
    checksum: str = Field(description="SHA-256 of the uploaded bytes.")
    created_at: datetime
    renditions: dict[str, RenditionOut] = Field(
        description="`original`, `thumbnail` (200px), `medium` (800px), `large` (1600px)."
    )


class ImageList(Out):
    data: list[ImageOut]


class FileResultOut(Out):
    """What became of one uploaded file."""

    index: int = Field(description="Position of the file in the request, from 0.")
    filename: str
    status: Literal["created", "duplicate", "refused"]
    image_id: str | None = None
    image: ImageOut | None = None
    reason: str | None = None


class UploadOut(Out):
    product_id: str
    files: list[FileResultOut]
    created: int
    duplicate: int
    refused: int


class JobOut(Out):
    """A background job; poll ``url`` until ``status`` is ``succeeded`` or ``failed``."""

    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: int
    total: int | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str


class ImageOrder(Body):
    image_ids: list[str] = Field(
        min_length=1, max_length=10_000, description="Every image of the product, in order."
    )
