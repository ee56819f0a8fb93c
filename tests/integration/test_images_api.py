"""Product images through the API: upload, list, serve with caching, primary, order, delete."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.media_support import (
    distinct_png,
    files,
    image_bytes,
    land_products,
    make_shop,
    stop_job_runner,
    stored_keys,
)
from warehouse.controldb.models import Role


@pytest.fixture
def shop(make, settings):
    return make_shop(make, settings)


@pytest.fixture(autouse=True)
def _jobs_stopped(app):
    yield
    stop_job_runner(app)


def upload(client, shop, *items, product="p1", headers=None):
    return client.post(
        shop.images_url(product), data=files(*items), headers=headers or shop.headers
    )


def listed(client, shop, product="p1"):
    response = client.get(shop.images_url(product), headers=shop.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_upload_one_image_stores_every_rendition(client, shop):
    response = upload(client, shop, ("front.jpg", image_bytes("JPEG", (900, 600)), "image/jpeg"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["created"], body["duplicate"], body["refused"]) == (1, 0, 0)
    image = body["files"][0]["image"]
    assert image["format"] == "jpeg" and (image["width"], image["height"]) == (900, 600)
    assert image["is_primary"] and image["position"] == 0 and len(image["checksum"]) == 64
    sizes = {name: (r["width"], r["height"]) for name, r in image["renditions"].items()}
    assert sizes == {
        "original": (900, 600),
        "thumbnail": (200, 133),
        "medium": (800, 533),
        "large": (900, 600),
    }
    keys = stored_keys(shop.settings, shop.tenant.id, f"images/{image['id']}")
    assert len(keys) == 4


def test_several_files_in_one_request_keep_their_order(client, shop):
    response = upload(client, shop, *[(f"{i}.png", distinct_png(i)) for i in range(3)])
    assert response.status_code == 201
    images = listed(client, shop)
    assert [i["filename"] for i in images] == ["0.png", "1.png", "2.png"]
    assert [i["position"] for i in images] == [0, 1, 2]
    assert [i["is_primary"] for i in images] == [True, False, False]


def test_identical_bytes_are_stored_once(client, shop):
    data = image_bytes("PNG", (50, 50))
    first = upload(client, shop, ("a.png", data)).get_json()["files"][0]
    again = upload(client, shop, ("renamed.png", data))
    assert again.status_code == 200
    result = again.get_json()["files"][0]
    assert result["status"] == "duplicate" and result["image_id"] == first["image_id"]
    both = upload(client, shop, ("x.png", distinct_png(9)), ("y.png", distinct_png(9)))
    assert [f["status"] for f in both.get_json()["files"]] == ["created", "duplicate"]
    assert len(listed(client, shop)) == 2
    assert len(stored_keys(shop.settings, shop.tenant.id, "images")) == 8


def test_the_same_bytes_on_another_product_are_another_image(client, shop):
    data = image_bytes("PNG", (50, 50))
    upload(client, shop, ("a.png", data))
    assert upload(client, shop, ("a.png", data), product="p2").status_code == 201


def test_rendition_bytes_type_etag_and_cache_headers(client, shop):
    image = upload(client, shop, ("a.png", image_bytes("PNG", (300, 300)))).get_json()
    rendition = image["files"][0]["image"]["renditions"]["thumbnail"]
    response = client.get(rendition["url"], headers=shop.headers)
    assert response.status_code == 200
    assert response.mimetype == rendition["content_type"]
    assert len(response.data) == rendition["bytes"]
    assert Image.open(io.BytesIO(response.data)).size == (200, 200)
    assert response.headers["Cache-Control"] == "private, max-age=86400, immutable"
    etag = response.headers["ETag"]
    cached = client.get(rendition["url"], headers={**shop.headers, "If-None-Match": etag})
    assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
    stale = client.get(rendition["url"], headers={**shop.headers, "If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_the_original_is_served_in_its_format(client, shop):
    image = upload(client, shop, ("a.gif", image_bytes("GIF"), "image/gif")).get_json()
    original = image["files"][0]["image"]["renditions"]["original"]
    response = client.get(original["url"], headers=shop.headers)
    assert response.mimetype == "image/gif" and response.data.startswith(b"GIF8")


def test_unknown_rendition_and_image_are_404(client, shop):
    image_id = upload(client, shop, ("a.png", image_bytes())).get_json()["files"][0]["image_id"]
    base = f"/api/v1/products/p1/images/{image_id}"
    assert client.get(f"{base}/huge", headers=shop.headers).status_code == 404
    assert client.get(f"{base}/key", headers=shop.headers).status_code == 404
    missing = "/api/v1/products/p1/images/0123456789abcdef0123456789abcdef"
    assert client.get(f"{missing}/original", headers=shop.headers).status_code == 404
    assert client.get(f"{missing}/", headers=shop.headers).status_code == 404
    assert (
        client.get(f"/api/v1/products/p2/images/{image_id}/", headers=shop.headers).status_code
        == 404
    )


def test_set_primary_moves_it_and_the_database_allows_only_one(client, shop):
    upload(client, shop, *[(f"{i}.png", distinct_png(i)) for i in range(3)])
    third = listed(client, shop)[2]["id"]
    response = client.put(f"/api/v1/products/p1/images/{third}/primary", headers=shop.headers)
    assert response.status_code == 200 and response.get_json()["is_primary"]
    assert [i["is_primary"] for i in listed(client, shop)] == [False, False, True]


def test_reorder_needs_every_image_exactly_once(client, shop):
    upload(client, shop, *[(f"{i}.png", distinct_png(i)) for i in range(3)])
    ids = [i["id"] for i in listed(client, shop)]
    url = "/api/v1/products/p1/images/order"
    for wrong in ([ids[0], ids[1]], [ids[0], ids[0], ids[1], ids[2]], [*ids, "nope"]):
        response = client.put(url, json={"image_ids": wrong}, headers=shop.headers)
        assert response.status_code == 422, wrong
        assert response.mimetype == "application/problem+json"
    response = client.put(url, json={"image_ids": ids[::-1]}, headers=shop.headers)
    assert response.status_code == 200
    assert [i["id"] for i in listed(client, shop)] == ids[::-1]
    assert listed(client, shop)[2]["is_primary"]  # order does not move the primary


def test_delete_removes_every_rendition_and_promotes_the_next(client, shop):
    upload(client, shop, *[(f"{i}.png", distinct_png(i)) for i in range(3)])
    first, second, _third = listed(client, shop)
    response = client.delete(f"/api/v1/products/p1/images/{first['id']}/", headers=shop.headers)
    assert response.status_code == 204
    assert stored_keys(shop.settings, shop.tenant.id, f"images/{first['id']}") == []
    url = first["renditions"]["original"]["url"]
    assert client.get(url, headers=shop.headers).status_code == 404
    remaining = listed(client, shop)
    assert [i["id"] for i in remaining][0] == second["id"]
    assert remaining[0]["is_primary"] and [i["position"] for i in remaining] == [0, 1]
    again = client.delete(f"/api/v1/products/p1/images/{first['id']}/", headers=shop.headers)
    assert again.status_code == 404


def test_deleted_bytes_can_be_uploaded_again(client, shop):
    data = image_bytes("PNG", (40, 40))
    image_id = upload(client, shop, ("a.png", data)).get_json()["files"][0]["image_id"]
    client.delete(f"/api/v1/products/p1/images/{image_id}/", headers=shop.headers)
    assert upload(client, shop, ("a.png", data)).status_code == 201


def test_unknown_or_deleted_product_is_404(client, shop):
    response = upload(client, shop, ("a.png", image_bytes()), product="nope")
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == "product_id"
    land_products(shop.settings, shop.tenant.id, ["p2"], op="delete")
    assert upload(client, shop, ("a.png", image_bytes()), product="p2").status_code == 404
    assert client.get(shop.images_url("p2"), headers=shop.headers).status_code == 404


def test_images_need_the_right_permissions(client, make, shop):
    data = [("a.png", image_bytes())]
    read_only = make.key_headers(shop.tenant, "read")
    assert upload(client, shop, *data, headers=read_only).status_code == 403
    write_only = make.key_headers(shop.tenant, "write")
    assert client.get(shop.images_url(), headers=write_only).status_code == 403
    assert client.post(shop.images_url(), data=files(*data)).status_code == 401
    viewer = make.user(tenant=shop.tenant, role=Role.VIEWER)
    assert (
        client.get(shop.images_url(), headers=make.bearer(viewer, shop.tenant)).status_code == 403
    )
    analyst = make.user(tenant=shop.tenant, role=Role.ANALYST)
    analyst_headers = make.bearer(analyst, shop.tenant)
    assert client.get(shop.images_url(), headers=analyst_headers).status_code == 200
    assert upload(client, shop, *data, headers=analyst_headers).status_code == 403


def test_upload_needs_multipart_with_files(client, shop):
    as_json = client.post(shop.images_url(), json={"file": "x"}, headers=shop.headers)
    assert as_json.status_code == 415
    no_files = client.post(
        shop.images_url(),
        data={"note": "hi"},
        content_type="multipart/form-data",
        headers=shop.headers,
    )
    assert no_files.status_code == 400
    assert no_files.get_json()["errors"][0]["field"] == "file"


def test_listing_carries_signed_urls_that_work_without_credentials(client, shop):
    upload(client, shop, ("a.png", image_bytes("PNG", (64, 64))))
    rendition = listed(client, shop)[0]["renditions"]["medium"]
    response = client.get(rendition["signed_url"])
    assert response.status_code == 200 and response.mimetype == rendition["content_type"]
    max_age = int(response.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 86400


def test_images_for_returns_every_requested_product(app, client, shop):
    from serving.media import url_signer
    from warehouse.media import images_for

    upload(client, shop, ("a.png", distinct_png(1)), ("b.png", distinct_png(2)))
    with app.app_context():
        sessions = app.extensions["shoplake.sessions"]
        with sessions() as session:
            found = images_for(session, shop.tenant.id, ["p1", "p2", "p1"], url_signer())
    assert set(found) == {"p1", "p2"} and found["p2"] == []
    assert [i["filename"] for i in found["p1"]] == ["a.png", "b.png"]
    assert found["p1"][0]["renditions"]["thumbnail"]["signed_url"].startswith("/api/v1/media/")
    with sessions() as session:
        assert images_for(session, shop.tenant.id + 1000, ["p1"]) == {"p1": []}


@pytest.mark.parametrize(
    "override", [{"media_storage_url": "ftp://host/media"}, {"jobs_runner": "celery"}]
)
def test_the_app_refuses_unknown_storage_or_job_runner_at_start(settings, override):
    from serving import create_app
    from warehouse.config import SettingsError

    with pytest.raises(SettingsError):
        create_app(settings.replace(**override))
