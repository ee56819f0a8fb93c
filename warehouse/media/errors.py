"""Errors the media services raise; the API's one handler turns them into problem+json."""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.errors import ServiceError


class MediaError(ServiceError):
    """Base of every refused media request."""


class ImageNotFound(MediaError):
    status = 404


class ProductNotFound(MediaError):
    status = 404


class InvalidOrder(MediaError):
    status = 422


class ImageRejected(MediaError):
    """One uploaded file is not an acceptable image; ``field`` is the file's name."""

    status = 422


@dataclass(frozen=True)
class Refusal:
    """Why one file of an upload was refused: its position, name and the reason."""

    index: int
    filename: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "filename": self.filename, "reason": self.reason}


class ImagesRefused(MediaError):
    """Some files of a synchronous upload were refused, so none was stored."""

    status = 422

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        first = refusals[0]
        super().__init__(first.filename, first.reason)
