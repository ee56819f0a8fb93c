"""Renditions: sizes, no upscaling, WebP where it saves bytes, nothing of the metadata left."""

from __future__ import annotations

import functools
import io

import pytest
from PIL import Image, ImageCms

from tests.media_support import image_bytes
from warehouse.media.decode import Limits, decode
from warehouse.media.renditions import NAMES, SIZES, render_all

LIMITS = Limits(10**8, 40_000_000)


def rendered(data: bytes, name: str = "x"):
    return {r.name: r for r in render_all(decode(data, name, "", LIMITS))}


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@functools.cache
def photo(size=(1700, 850)) -> bytes:
    # Smooth gradients with noise: like a photo, so JPEG and WebP sizes are realistic.
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 20).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(base, noise, 0.3).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@functools.cache
def photo_renditions() -> dict:
    return rendered(photo())


def test_every_rendition_fits_its_box_and_keeps_the_aspect_ratio():
    out = photo_renditions()
    assert tuple(out) == NAMES
    assert (out["original"].width, out["original"].height) == (1700, 850)
    for name, box in SIZES.items():
        assert (out[name].width, out[name].height) == (box, box // 2)
        assert opened(out[name].data).size == (box, box // 2)


def test_small_images_are_never_upscaled():
    out = rendered(image_bytes("PNG", (120, 90)))
    assert all((r.width, r.height) == (120, 90) for r in out.values())


def test_the_smaller_encoding_wins():
    for rendition in photo_renditions().values():
        if rendition.name == "original":
            continue
        image = opened(rendition.data)
        other = io.BytesIO()
        alternative = "JPEG" if rendition.format == "WEBP" else "WEBP"
        image.convert("RGB").save(other, alternative, quality=85 if alternative == "JPEG" else 82)
        assert len(rendition.data) <= len(other.getvalue()) * 1.05
        assert (
            rendition.content_type == {"WEBP": "image/webp", "JPEG": "image/jpeg"}[rendition.format]
        )


def test_a_photo_gets_webp_where_it_saves_bytes():
    assert {r.format for name, r in photo_renditions().items() if name != "original"} == {"WEBP"}


def test_transparency_survives_in_every_rendition():
    out = rendered(image_bytes("PNG", (300, 300), (0, 0, 255, 100), mode="RGBA"))
    for rendition in out.values():
        assert rendition.format in ("PNG", "WEBP")
        assert opened(rendition.data).convert("RGBA").getpixel((5, 5))[3] < 255


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_the_original_keeps_its_format_and_loses_its_metadata(fmt):
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Maker"
    extra = {"exif": exif.tobytes()} if fmt in ("JPEG", "PNG", "WEBP") else {"comment": b"secret"}
    original = rendered(image_bytes(fmt, (64, 64), **extra))["original"]
    assert original.format == fmt
    assert b"Secret Camera" not in original.data and b"secret" not in original.data
    assert len(opened(original.data).getexif()) == 0


def test_the_icc_profile_is_kept_in_renditions():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = rendered(image_bytes("JPEG", (400, 300), icc_profile=profile))
    assert all(opened(r.data).info.get("icc_profile") == profile for r in out.values())


def test_an_animation_stays_animated_in_the_original_only():
    frames = [Image.new("RGB", (40, 40), (i * 50, 0, 0)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    out = rendered(buffer.getvalue())
    assert getattr(opened(out["original"].data), "n_frames", 1) == 3
    assert getattr(opened(out["thumbnail"].data), "n_frames", 1) == 1


def test_etag_follows_the_bytes():
    first, second = rendered(image_bytes("PNG", color=(1, 2, 3))), rendered(image_bytes("PNG"))
    assert first["original"].etag == rendered(image_bytes("PNG", color=(1, 2, 3)))["original"].etag
    assert first["original"].etag != second["original"].etag
