"""Decide whether uploaded bytes are an acceptable image, by decoding them, and clean them.

Checks, in order: not empty; not over the byte limit; Pillow identifies it as JPEG, PNG, WebP or
GIF (no other decoder is even tried); the file name and declared type do not claim another
format; width x height x frames within the pixel limit (checked on the header, before any pixel
is decoded - the decompression-bomb guard); every frame decodes completely (truncated or corrupt
data is refused, never padded). The result has EXIF orientation applied and no metadata left
(EXIF, XMP, comments); only the ICC colour profile is kept, since dropping it changes colours.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from PIL import Image, ImageFile, ImageOps, ImageSequence, UnidentifiedImageError

from warehouse.media.errors import ImageRejected
from warehouse.media.formats import ALLOWED, ALLOWED_TEXT, claim_problem
from warehouse.media.limits import PILLOW_PIXEL_CEILING, Limits

Image.MAX_IMAGE_PIXELS = PILLOW_PIXEL_CEILING
ImageFile.LOAD_TRUNCATED_IMAGES = False  # the default, stated: never pad a truncated image
MAX_FRAMES = 300
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass
class Decoded:
    """A decoded, oriented, metadata-free image: one frame, or several for an animation."""

    format: str
    frames: list[Image.Image]
    icc_profile: bytes | None = None
    durations: list[int] = field(default_factory=list)
    loop: int = 0

    @property
    def first(self) -> Image.Image:
        return self.frames[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].size


def decode(data: bytes, filename: str, declared_type: str, limits: Limits) -> Decoded:
    """Decode an uploaded file, or raise ImageRejected naming it and saying why."""
    if not data:
        raise ImageRejected(filename, "the file is empty")
    if len(data) > limits.max_bytes:
        raise ImageRejected(filename, f"the file is larger than {limits.max_bytes} bytes")
    image = _open(data, filename, limits)
    problem = claim_problem(image.format, filename, declared_type)
    if problem:
        raise ImageRejected(filename, problem)
    _check_pixels(image, filename, limits)
    try:
        return _decoded(image)
    except _BOMB:
        raise ImageRejected(filename, "the image is too large to decode safely") from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected(filename, f"the image data is truncated or corrupt ({exc})") from None


def _open(data: bytes, filename: str, limits: Limits) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=ALLOWED)
    except UnidentifiedImageError:
        raise ImageRejected(filename, f"the content is not a {ALLOWED_TEXT} image") from None
    except _BOMB:
        reason = f"the image has over {PILLOW_PIXEL_CEILING} pixels; at most {limits.max_pixels}"
        raise ImageRejected(filename, reason) from None
    except _DECODE_ERRORS as exc:
        raise ImageRejected(filename, f"the image data is truncated or corrupt ({exc})") from None


def _check_pixels(image: Image.Image, filename: str, limits: Limits) -> None:
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if frames > MAX_FRAMES:
        raise ImageRejected(filename, f"the animation has {frames} frames; at most {MAX_FRAMES}")
    if width * height * frames > limits.max_pixels:
        shown = f"{width}x{height}" + (f"x{frames} frames" if frames > 1 else "")
        raise ImageRejected(filename, f"the image is {shown} pixels; at most {limits.max_pixels}")


def _decoded(image: Image.Image) -> Decoded:
    icc = image.info.get("icc_profile") or None
    if getattr(image, "n_frames", 1) > 1:
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            frame.load()
            durations.append(int(frame.info.get("duration", 100) or 100))
            frames.append(_clean(frame.convert("RGBA")))
        return Decoded(image.format, frames, icc, durations, int(image.info.get("loop", 0)))
    image.load()
    oriented = ImageOps.exif_transpose(image)
    if image.mode == "CMYK":
        icc = None  # a CMYK profile does not describe the RGB pixels we keep
    return Decoded(image.format, [_clean(_normal_mode(oriented))], icc)


def _normal_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode in ("P", "PA"):
        transparent = "transparency" in image.info or image.mode == "PA"
        return image.convert("RGBA" if transparent else "RGB")
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I"):  # 16-bit greyscale: scale down rather than clip
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGB")


def _clean(image: Image.Image) -> Image.Image:
    # A copy with no info dict: encoders take EXIF, XMP and comments from it by default.
    clean = image.copy()
    clean.info = {}
    return clean
