"""Validation by content: what is refused (and why), and what an accepted image becomes."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from tests.media_support import image_bytes, noisy_jpeg, png_claiming
from warehouse.media.decode import Limits, decode
from warehouse.media.errors import ImageRejected

LIMITS = Limits(max_bytes=2_000_000, max_pixels=40_000_000)


def refusal(data: bytes, name: str, declared: str = "", limits: Limits = LIMITS) -> str:
    with pytest.raises(ImageRejected) as caught:
        decode(data, name, declared, limits)
    assert caught.value.field == name  # the error names the file
    return caught.value.reason


@pytest.mark.parametrize(
    ("data", "name", "declared", "expected"),
    [
        # a PNG renamed .jpg: the name claims another format than the content
        (image_bytes("PNG"), "photo.jpg", "", "content is PNG but the file name says .jpg"),
        # the same, through the declared type only
        (image_bytes("PNG"), "photo", "image/jpeg", "declared as image/jpeg"),
        # a text file renamed .png
        (b"just some notes\n" * 20, "notes.png", "image/png", "not a JPEG, PNG, WebP or GIF"),
        # a truncated JPEG
        (noisy_jpeg()[:2000], "cut.jpg", "image/jpeg", "truncated or corrupt"),
        # a 20000x20000 decompression bomb
        (png_claiming(20000, 20000), "bomb.png", "image/png", "at most 40000000"),
        # a zero-byte file
        (b"", "empty.jpg", "image/jpeg", "the file is empty"),
        # a real image behind a non-image extension
        (image_bytes("PNG"), "image.png.exe", "", "extension .exe is not an image type"),
        # a real image declared as something else entirely
        (image_bytes("GIF"), "a.gif", "text/html", "declared type text/html is not an image"),
        # formats Pillow reads but we do not accept
        (image_bytes("BMP"), "a.bmp", "", "not a JPEG, PNG, WebP or GIF"),
        (image_bytes("TIFF"), "a.tiff", "", "not a JPEG, PNG, WebP or GIF"),
    ],
    ids=[
        "png-named-jpg",
        "png-declared-jpeg",
        "text-named-png",
        "truncated-jpeg",
        "bomb-20000x20000",
        "zero-bytes",
        "exe-extension",
        "declared-html",
        "bmp",
        "tiff",
    ],
)
def test_refused_with_a_reason(data, name, declared, expected):
    assert expected in refusal(data, name, declared)


def test_bytes_over_the_limit_are_refused_before_decoding():
    reason = refusal(image_bytes("PNG"), "big.png", limits=Limits(max_bytes=50, max_pixels=10**6))
    assert "larger than 50 bytes" in reason


def test_pixel_limit_is_checked_on_the_header():
    # A bomb under Pillow's own ceiling is refused by our limit, naming its size.
    reason = refusal(png_claiming(8000, 8000), "bomb.png", "image/png")
    assert "8000x8000 pixels; at most 40000000" in reason


def test_pixel_limit_is_configurable():
    reason = refusal(image_bytes("PNG", (100, 100)), "a.png", limits=Limits(10**6, 9_999))
    assert "100x100 pixels" in reason


def test_pillow_refuses_a_bomb_past_its_own_ceiling_too():
    # Past Pillow's ceiling the header alone raises DecompressionBombError; it is a refusal too.
    reason = refusal(png_claiming(30000, 30000), "huge.png", limits=Limits(10**6, 10**12))
    assert "over 100000000 pixels" in reason


@pytest.mark.parametrize(
    ("fmt", "name", "declared"),
    [
        ("JPEG", "a.jpg", "image/jpeg"),
        ("JPEG", "a.JPEG", "image/jpg"),
        ("PNG", "a.png", "image/png"),
        ("WEBP", "a.webp", "image/webp"),
        ("GIF", "a.gif", "image/gif"),
        ("PNG", "no-extension", "application/octet-stream"),  # claims nothing: content decides
    ],
)
def test_accepted_formats(fmt, name, declared):
    decoded = decode(image_bytes(fmt, (30, 20)), name, declared, LIMITS)
    assert decoded.format == fmt and decoded.size == (30, 20)


def test_exif_orientation_is_applied_and_metadata_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "Secret Camera Maker"
    data = image_bytes("JPEG", (40, 20), exif=exif.tobytes(), comment=b"private note")
    decoded = decode(data, "rotated.jpg", "image/jpeg", LIMITS)
    assert decoded.size == (20, 40)
    assert decoded.first.info == {} and len(decoded.first.getexif()) == 0


def test_icc_profile_is_kept():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    decoded = decode(image_bytes("PNG", icc_profile=profile), "c.png", "", LIMITS)
    assert decoded.icc_profile == profile


def test_animated_gif_keeps_its_frames():
    frames = [Image.new("RGB", (20, 20), (i * 40, 0, 0)) for i in range(4)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=70, loop=0)
    decoded = decode(buffer.getvalue(), "anim.gif", "image/gif", LIMITS)
    assert len(decoded.frames) == 4 and decoded.durations == [70] * 4


def test_frames_count_against_the_pixel_limit():
    frames = [Image.new("RGB", (50, 50), (i * 40, 0, 0)) for i in range(4)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    reason = refusal(buffer.getvalue(), "anim.gif", limits=Limits(10**6, 50 * 50 * 3))
    assert "50x50x4 frames" in reason


@pytest.mark.parametrize(
    ("mode", "color", "expected_mode"),
    [
        ("P", 3, "RGB"),  # palette without transparency
        ("1", 1, "L"),
        ("I;16", 40000, "L"),  # 16-bit greyscale PNG is scaled down, not clipped
        ("LA", (10, 128), "LA"),
    ],
)
def test_unusual_modes_are_normalised(mode, color, expected_mode):
    decoded = decode(image_bytes("PNG", (8, 8), color, mode=mode), "m.png", "", LIMITS)
    assert decoded.first.mode == expected_mode
    if mode == "I;16":
        assert decoded.first.getpixel((0, 0)) == 40000 // 256


def test_cmyk_jpeg_becomes_rgb():
    decoded = decode(image_bytes("JPEG", (8, 8), (0, 0, 0, 0), mode="CMYK"), "c.jpg", "", LIMITS)
    assert decoded.first.mode == "RGB" and decoded.icc_profile is None
