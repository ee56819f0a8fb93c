"""Tenant B can never read, list, replace or delete tenant A's images: by id, key or URL."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.media_support import files, image_bytes, make_shop, stop_job_runner, stored_keys
from warehouse.controldb.models import TenantStatus
from warehouse.storage import ObjectMissing, open_storage


@pytest.fixture(autouse=True)
def _jobs_stopped(app):
    yield
    stop_job_runner(app)


@pytest.fixture
def shops(client, make, settings):
    a = make_shop(make, settings, products=("p1", "p2"), slug="shop-a")
    b = make_shop(make, settings, products=("p1", "p9"), slug="shop-b")
    data = files(("a.png", image_bytes("PNG", (64, 64), (1, 2, 3))))
    response = client.post(a.images_url("p1"), data=data, headers=a.headers)
    assert response.status_code == 201
    return a, b, response.get_json()["files"][0]["image"]


def test_b_lists_only_its_own_product_of_the_same_id(client, shops):
    _a, b, _image = shops
    assert client.get(b.images_url("p1"), headers=b.headers).get_json()["data"] == []
    assert client.get(b.images_url("p2"), headers=b.headers).status_code == 404


def test_b_cannot_read_a_image_by_id(client, shops):
    _a, b, image = shops
    base = f"/api/v1/products/p1/images/{image['id']}"
    assert client.get(f"{base}/", headers=b.headers).status_code == 404
    for rendition in image["renditions"].values():
        assert client.get(rendition["url"], headers=b.headers).status_code == 404
    assert client.get(f"{base}/original", headers=b.headers).status_code == 404


def test_b_cannot_change_or_delete_a_image(client, shops):
    a, b, image = shops
    base = f"/api/v1/products/p1/images/{image['id']}"
    assert client.put(f"{base}/primary", headers=b.headers).status_code == 404
    order = client.put(
        "/api/v1/products/p1/images/order", json={"image_ids": [image["id"]]}, headers=b.headers
    )
    assert order.status_code == 422
    assert client.delete(f"{base}/", headers=b.headers).status_code == 404
    assert client.get(f"{base}/", headers=a.headers).status_code == 200
    assert len(stored_keys(a.settings, a.tenant.id, f"images/{image['id']}")) == 4


def test_b_cannot_upload_to_a_product_or_claim_a_bytes(client, shops):
    a, b, image = shops
    data = image_bytes("PNG", (64, 64), (1, 2, 3))  # the very bytes A uploaded
    refused = client.post(b.images_url("p2"), data=files(("x.png", data)), headers=b.headers)
    assert refused.status_code == 404
    own = client.post(b.images_url("p1"), data=files(("x.png", data)), headers=b.headers)
    assert own.status_code == 201  # a new image of B's, not a "duplicate" of A's
    assert own.get_json()["files"][0]["image_id"] != image["id"]
    assert len(client.get(a.images_url("p1"), headers=a.headers).get_json()["data"]) == 1


@pytest.mark.parametrize("how", ["header", "path", "query"])
def test_b_cannot_name_tenant_a(client, shops, how):
    a, b, image = shops
    path = f"/api/v1/products/p1/images/{image['id']}/original"
    headers = dict(b.headers)
    if how == "header":
        headers["X-Tenant-ID"] = str(a.tenant.id)
    elif how == "path":
        path = f"/api/v1/tenants/{a.tenant.id}/products/p1/images/{image['id']}/original"
    else:
        path += f"?tenant_id={a.tenant.id}"
    assert client.get(path, headers=headers).status_code == 403


def test_a_signed_url_only_opens_its_own_path(client, shops):
    a, b, image = shops
    signed = image["renditions"]["thumbnail"]["signed_url"]
    assert client.get(signed).status_code == 200
    parts = urlsplit(signed)
    b_image = client.post(
        b.images_url("p1"), data=files(("b.png", image_bytes("PNG", (20, 20)))), headers=b.headers
    ).get_json()["files"][0]["image_id"]
    moved = [
        parts.path.replace(f"/media/{a.tenant.id}/", f"/media/{b.tenant.id}/"),  # B's tenant
        parts.path.replace(image["id"], b_image),  # B's image
        parts.path.replace(f"/media/{a.tenant.id}/", f"/media/{b.tenant.id}/").replace(
            image["id"], b_image
        ),  # B's whole path
        parts.path.replace("/thumbnail", "/original"),  # another rendition
    ]
    for path in moved:
        response = client.get(f"{path}?{parts.query}")
        assert response.status_code == 403, path
        assert response.mimetype == "application/problem+json"
    assert client.get(parts.path).status_code == 403  # no signature at all
    assert client.get(f"{parts.path}?expires=1&signature=00").status_code == 403


def test_a_signed_url_stops_working_when_the_image_or_tenant_goes(client, make, shops):
    a, _b, image = shops
    signed = image["renditions"]["medium"]["signed_url"]
    make.tenant_status(a.tenant, TenantStatus.SUSPENDED)
    assert client.get(signed).status_code == 403
    make.tenant_status(a.tenant, TenantStatus.ACTIVE)
    client.delete(f"/api/v1/products/p1/images/{image['id']}/", headers=a.headers)
    assert client.get(signed).status_code == 404


def test_storage_keys_are_never_shown_and_never_cross_tenants(client, shops):
    a, b, image = shops
    listed = client.get(a.images_url("p1"), headers=a.headers).get_json()["data"][0]
    assert all("key" not in rendition for rendition in listed["renditions"].values())
    storage = open_storage(a.settings)
    key = stored_keys(a.settings, a.tenant.id, f"images/{image['id']}")[0]
    assert storage.get(a.tenant.id, key)
    with pytest.raises(ObjectMissing):
        storage.get(b.tenant.id, key)  # the same relative key names B's own (empty) space
    for escape in (f"../{a.tenant.id}/{key}", f"/tenants/{a.tenant.id}/{key}", "images/./x"):
        with pytest.raises(ValueError):
            storage.get(b.tenant.id, escape)


def test_b_cannot_poll_a_job(client, shops):
    a, b, _image = shops
    response = client.post(
        a.images_url("p1"),
        data=files(("j.png", image_bytes("PNG", (9, 9)))),
        headers={**a.headers, "Prefer": "respond-async"},
    )
    assert response.status_code == 202
    job_url = response.headers["Location"]
    assert client.get(job_url, headers=b.headers).status_code == 404
    assert client.get(job_url.replace("/p1/", "/p9/"), headers=a.headers).status_code == 404
