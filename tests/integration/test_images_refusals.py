"""Refused uploads: a clear problem naming each file and why, and nothing stored at all."""

from __future__ import annotations

import pytest

from tests.media_support import (
    files,
    image_bytes,
    make_shop,
    noisy_jpeg,
    png_claiming,
    stop_job_runner,
    stored_keys,
)


@pytest.fixture
def shop(make, settings):
    return make_shop(make, settings)


@pytest.fixture(autouse=True)
def _jobs_stopped(app):
    yield
    stop_job_runner(app)


def assert_nothing_stored(client, shop):
    assert stored_keys(shop.settings, shop.tenant.id) == []
    assert client.get(shop.images_url(), headers=shop.headers).get_json()["data"] == []


REFUSED = [
    # a PNG renamed .jpg (and sent as image/jpeg): the content contradicts the claim
    ("photo.jpg", image_bytes("PNG", (40, 40)), "image/jpeg", "content is PNG but"),
    # a text file renamed .png
    ("notes.png", b"not an image at all\n" * 10, "image/png", "not a JPEG, PNG, WebP or GIF"),
    # a truncated JPEG
    ("cut.jpg", noisy_jpeg()[:1500], "image/jpeg", "truncated or corrupt"),
    # a 20000x20000 decompression bomb (a small PNG whose header claims the size)
    ("bomb.png", png_claiming(20000, 20000), "image/png", "pixels"),
    # a zero-byte file
    ("empty.png", b"", "image/png", "the file is empty"),
]


@pytest.mark.parametrize(
    ("name", "data", "declared", "reason"),
    REFUSED,
    ids=["png-renamed-jpg", "text-renamed-png", "truncated-jpeg", "bomb", "zero-bytes"],
)
def test_each_bad_file_is_refused_clearly(client, shop, name, data, declared, reason):
    response = client.post(
        shop.images_url(), data=files((name, data, declared)), headers=shop.headers
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"].endswith("/image-refused")
    assert "nothing was stored" in problem["detail"]
    assert problem["errors"][0]["field"] == name
    assert reason in problem["errors"][0]["reason"]
    assert problem["files"] == [
        {"index": 0, "filename": name, "reason": problem["errors"][0]["reason"]}
    ]
    assert_nothing_stored(client, shop)


def test_one_bad_file_stops_the_whole_request_and_every_bad_one_is_named(client, shop):
    items = [
        ("good.png", image_bytes("PNG", (30, 30))),
        ("notes.png", b"text"),
        ("also-good.jpg", image_bytes("JPEG", (30, 30))),
        ("empty.gif", b""),
    ]
    response = client.post(shop.images_url(), data=files(*items), headers=shop.headers)
    assert response.status_code == 422
    problem = response.get_json()
    assert "2 of 4 file(s) refused" in problem["detail"]
    assert [(f["index"], f["filename"]) for f in problem["files"]] == [
        (1, "notes.png"),
        (3, "empty.gif"),
    ]
    assert_nothing_stored(client, shop)


def test_a_file_over_the_size_limit_is_refused(app, client, shop):
    app.config["SHOPLAKE"] = shop.settings.replace(media_max_file_bytes=1000)
    big = image_bytes("PNG", (300, 300), mode="RGB", compress_level=0)
    response = client.post(shop.images_url(), data=files(("big.png", big)), headers=shop.headers)
    assert response.status_code == 422
    assert "larger than 1000 bytes" in response.get_json()["errors"][0]["reason"]
    assert_nothing_stored(client, shop)


def test_a_request_over_the_body_limit_is_413(app, client, shop):
    app.config["SHOPLAKE"] = shop.settings.replace(media_max_request_bytes=2000)
    big = image_bytes("PNG", (300, 300), compress_level=0)
    response = client.post(shop.images_url(), data=files(("big.png", big)), headers=shop.headers)
    assert response.status_code == 413
    assert_nothing_stored(client, shop)


def test_too_many_files_in_one_request(app, client, shop):
    app.config["SHOPLAKE"] = shop.settings.replace(media_max_files=2)
    items = [(f"{i}.png", image_bytes("PNG", (10 + i, 10))) for i in range(3)]
    response = client.post(shop.images_url(), data=files(*items), headers=shop.headers)
    assert response.status_code == 422
    assert "at most 2 files" in response.get_json()["errors"][0]["reason"]
    assert_nothing_stored(client, shop)


def test_a_file_name_with_folders_is_reduced_to_its_name(client, shop):
    response = client.post(
        shop.images_url(),
        data=files(("C:\\Users\\me\\..\\secret/notes.png", b"text")),
        headers=shop.headers,
    )
    assert response.get_json()["errors"][0]["field"] == "notes.png"
