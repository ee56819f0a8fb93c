"""Encode the stored renditions of a decoded image: the original and three resized sizes.

``original`` keeps the source format and full size (re-encoded, so no metadata survives; an
animation keeps its frames). ``thumbnail``, ``medium`` and ``large`` fit in a square box, are
never upscaled, and are encoded twice - JPEG (or PNG when the image has transparency) and
WebP - keeping whichever is smaller, so WebP is used where it saves bytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from warehouse.media.decode import Decoded
from warehouse.media.formats import FORMATS
from warehouse.media.limits import NAMES, ORIGINAL, SIZES

_ORIGINAL_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 92, "optimize": True},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 90, "method": 4},
    "GIF": {},
}


@dataclass(frozen=True)
class Rendition:
    """One encoded rendition, ready to store."""

    name: str
    data: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][2]

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


def render_all(decoded: Decoded) -> list[Rendition]:
    """Return the original and every resized rendition of ``decoded``, in :data:`NAMES` order."""
    out = {ORIGINAL: original(decoded)}
    source = decoded.first
    # Largest first, each resized from the one before: far less work than from full size
    # each time, and LANCZOS from an image still larger than the box loses nothing visible.
    for name, box in sorted(SIZES.items(), key=lambda item: -item[1]):
        out[name], source = resized(source, decoded.icc_profile, name, box)
    return [out[name] for name in NAMES]


def original(decoded: Decoded) -> Rendition:
    """Re-encode the full image in its own format, without metadata."""
    fmt = decoded.format
    first = decoded.first
    options = dict(_ORIGINAL_OPTIONS[fmt])
    if decoded.icc_profile and fmt != "GIF":
        options["icc_profile"] = decoded.icc_profile
    if len(decoded.frames) > 1:
        options.update(
            save_all=True,
            append_images=decoded.frames[1:],
            duration=decoded.durations,
            loop=decoded.loop,
        )
    if fmt == "JPEG" and first.mode not in ("L", "RGB"):
        first = first.convert("RGB")
    return Rendition(ORIGINAL, _encode(first, fmt, options), fmt, *first.size)


def resized(
    source: Image.Image, icc_profile: bytes | None, name: str, box: int
) -> tuple[Rendition, Image.Image]:
    """Fit ``source`` in ``box`` x ``box``; return the smaller encoding and the resized image."""
    image = source.copy()
    image.thumbnail((box, box), Image.Resampling.LANCZOS)
    icc = {"icc_profile": icc_profile} if icc_profile else {}
    if _has_alpha(image):
        classic = ("PNG", _encode(image, "PNG", {"compress_level": 9, **icc}))
    else:
        opaque = image.convert("RGB") if image.mode not in ("L", "RGB") else image
        classic = ("JPEG", _encode(opaque, "JPEG", {"quality": 85, "optimize": True, **icc}))
    webp = ("WEBP", _encode(image, "WEBP", {"quality": 82, "method": 4, **icc}))
    fmt, data = min((webp, classic), key=lambda item: len(item[1]))
    return Rendition(name, data, fmt, *image.size), image


def _has_alpha(image: Image.Image) -> bool:
    if image.mode not in ("LA", "RGBA"):
        return False
    low, _high = image.getchannel("A").getextrema()
    return low < 255


def _encode(image: Image.Image, fmt: str, options: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
