"""What a file's name and declared type may claim, and how client file names are cleaned."""

from __future__ import annotations

import pytest

from warehouse.config import SettingsError, load_settings
from warehouse.media.formats import claim_problem, clean_filename
from warehouse.storage import LocalStorage, check_storage_url, open_storage


@pytest.mark.parametrize(
    ("detected", "name", "declared", "problem"),
    [
        ("JPEG", "a.jpg", "image/jpeg", None),
        ("JPEG", "a.JPE", "image/pjpeg", None),
        ("PNG", "a", "", None),  # no extension, nothing declared: content decides
        ("PNG", "a.png", "application/octet-stream", None),  # generic type claims nothing
        ("WEBP", "a.webp", "image/webp; charset=binary", None),  # parameters are ignored
        ("PNG", "a.jpg", "", "the content is PNG but the file name says .jpg"),
        ("GIF", "a.gif", "image/png", "the content is GIF but was declared as image/png"),
        ("PNG", "a.svg", "", "the file name's extension .svg is not an image type"),
        ("PNG", "a.png", "application/pdf", "the declared type application/pdf is not an image"),
        ("PNG", ".png", "", None),  # a dot file has no extension
    ],
)
def test_claims(detected, name, declared, problem):
    found = claim_problem(detected, name, declared)
    assert found == problem if problem is None else problem in found


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("photo.jpg", "photo.jpg"),
        ("C:\\fakepath\\photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("a/b\\c.png", "c.png"),
        ("tab\tname.png", "tabname.png"),
        ("", "file-3"),
        (None, "file-3"),
        ("x" * 300 + ".png", "x" * 255),
    ],
)
def test_file_names_lose_folders_and_control_characters(raw, clean):
    assert clean_filename(raw, 3) == clean


def test_storage_url_chooses_the_backend(tmp_path):
    default = load_settings({"var_dir": tmp_path}, environ={})
    storage = open_storage(default)
    assert isinstance(storage, LocalStorage) and storage.root == (tmp_path / "media").resolve()
    explicit = default.replace(media_storage_url=(tmp_path / "elsewhere").as_uri())
    assert open_storage(explicit).root == tmp_path / "elsewhere"
    assert check_storage_url(default.replace(media_storage_url="s3://bucket/prefix")) == "s3"
    for wrong in ("ftp://host/dir", "file://otherhost/dir", "s3:///no-bucket"):
        with pytest.raises(SettingsError):
            open_storage(default.replace(media_storage_url=wrong))
