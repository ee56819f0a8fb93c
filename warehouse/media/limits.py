"""How large an upload may be, and which renditions we keep: the parts of media that need no Pillow.

Pillow is imported only when an image is actually decoded (:mod:`.decode`, :mod:`.renditions`),
so the API workers that never see an upload do not carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.config import Settings

# Pillow's own guard, a second fence behind the configured limit: it refuses (or, between one
# and two times this, warns about) larger images as soon as their header is read.
PILLOW_PIXEL_CEILING = 100_000_000

ORIGINAL = "original"
SIZES = {"thumbnail": 200, "medium": 800, "large": 1600}
NAMES = (ORIGINAL, *SIZES)


@dataclass(frozen=True)
class Limits:
    """How large an upload may be: bytes of the file, pixels of all its frames."""

    max_bytes: int
    max_pixels: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """Read the limits from settings (pixels capped at Pillow's ceiling)."""
        pixels = min(settings.media_max_pixels, PILLOW_PIXEL_CEILING)
        return cls(settings.media_max_file_bytes, pixels)
