"""The catalog's rules hold in the database itself and under concurrent uploads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.exc import IntegrityError

from tests.media_support import distinct_png, make_shop, stored_keys
from warehouse.controldb import transaction
from warehouse.controldb.models import ProductImage
from warehouse.media import MediaEnv, Upload, images_of, upload_images


@pytest.fixture
def env(app, settings) -> MediaEnv:
    return MediaEnv.from_settings(settings, app.extensions["shoplake.sessions"])


def row(tenant_id: int, checksum: str, primary: bool) -> ProductImage:
    return ProductImage(
        id=checksum[:32],
        tenant_id=tenant_id,
        product_id="p1",
        checksum=checksum,
        format="png",
        width=1,
        height=1,
        bytes=1,
        position=0,
        is_primary=primary,
        renditions={},
    )


def test_the_database_allows_one_primary_per_product(make, env):
    tenant = make.tenant()
    with transaction(env.sessions) as session:
        session.add(row(tenant.id, "a" * 64, True))
        session.add(row(tenant.id, "b" * 64, False))
    with pytest.raises(IntegrityError), transaction(env.sessions) as session:
        session.add(row(tenant.id, "c" * 64, True))
    other = make.tenant()
    with transaction(env.sessions) as session:  # another tenant's product has its own primary
        session.add(row(other.id, "e" * 64, True))


def test_the_database_refuses_the_same_bytes_twice_on_a_product(make, env):
    tenant = make.tenant()
    with transaction(env.sessions) as session:
        session.add(row(tenant.id, "a" * 64, True))
    duplicate = row(tenant.id, "a" * 64, False)
    duplicate.id = "f" * 32
    with pytest.raises(IntegrityError), transaction(env.sessions) as session:
        session.add(duplicate)


def test_concurrent_uploads_keep_one_primary_no_duplicates_and_no_orphans(make, settings, env):
    shop = make_shop(make, settings)
    shared = Upload("shared.png", "image/png", distinct_png(500))

    def upload(worker: int) -> list[str]:
        mine = Upload(f"{worker}.png", "image/png", distinct_png(600 + worker))
        results = upload_images(env, shop.tenant.id, "p1", [shared, mine])
        return [result.status for result in results]

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(upload, range(4)))
    assert sorted(s[0] for s in statuses) == ["created", "duplicate", "duplicate", "duplicate"]
    assert all(s[1] == "created" for s in statuses)
    with env.sessions() as session:
        images = images_of(session, shop.tenant.id, "p1")
    assert len(images) == 5 and len({i.checksum for i in images}) == 5
    assert sum(i.is_primary for i in images) == 1
    assert sorted(i.position for i in images) == list(range(5))
    assert len(stored_keys(settings, shop.tenant.id, "images")) == 5 * 4
