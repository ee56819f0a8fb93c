"""The image formats we accept, and what a file's name and declared type claim it to be.

Content decides: a file is what Pillow decodes it as. A name or declared type that claims a
*different* image format (a PNG named ``photo.jpg``) is refused as a mismatch, and a name with a
non-image extension (``notes.png.txt``) is refused outright; a generic declared type
(``application/octet-stream``) or a name without an extension claims nothing.
"""

from __future__ import annotations

import ntpath
import posixpath

# Pillow format name -> (our short name, MIME type, file extension of stored objects).
FORMATS: dict[str, tuple[str, str, str]] = {
    "JPEG": ("jpeg", "image/jpeg", "jpg"),
    "PNG": ("png", "image/png", "png"),
    "WEBP": ("webp", "image/webp", "webp"),
    "GIF": ("gif", "image/gif", "gif"),
}
ALLOWED = tuple(FORMATS)
ALLOWED_TEXT = "JPEG, PNG, WebP or GIF"

EXTENSIONS = {
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "jpe": "JPEG",
    "jfif": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
}
MIME_TYPES = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/png": "PNG",
    "image/x-png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
# Declared types that claim nothing (browsers and curl send these for unknown files).
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
MAX_FILENAME_CHARS = 255


def clean_filename(raw: str | None, index: int) -> str:
    """Return the client's file name without any folder part, or ``file-<index>``."""
    name = ntpath.basename(posixpath.basename(raw or "")).strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:MAX_FILENAME_CHARS] or f"file-{index}"


def extension(filename: str) -> str:
    """Return the lower-case extension of ``filename`` ('' if it has none)."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def claim_problem(detected: str, filename: str, declared_type: str) -> str | None:
    """Say why the name or declared type contradicts the detected format (None if they agree)."""
    ext = extension(filename)
    if ext and ext not in EXTENSIONS:
        return f"the file name's extension .{ext} is not an image type ({ALLOWED_TEXT})"
    shown = FORMATS[detected][0].upper()
    if ext and EXTENSIONS[ext] != detected:
        return f"the content is {shown} but the file name says .{ext}"
    mime = (declared_type or "").split(";")[0].strip().lower()
    if mime in GENERIC_TYPES:
        return None
    if mime not in MIME_TYPES:
        return f"the declared type {mime} is not an image type ({ALLOWED_TEXT})"
    if MIME_TYPES[mime] != detected:
        return f"the content is {shown} but was declared as {mime}"
    return None
