"""Mart answers computed by one API worker are served by the others of the node.

Each app below stands for one gunicorn worker: its own answer LRU, the same ``var/``. The test
proves an answer travels between them unchanged (byte for byte), is computed once when two
workers miss together, stays within its tenant and snapshot, survives a damaged file, respects
its bound and leaves with its snapshot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from serving import close_app, create_app
from tests.analytics_records import key_headers, republish
from warehouse.analytics import overview
from warehouse.publish.layout import answers_dir
from warehouse.publish.retention import prune

SLUG, OTHER = "kaffeehaus-berlin", "tokyo-zakka"
OVERVIEW = "/api/v1/analytics/summary/overview/?start_date=2026-01-01&end_date=2026-12-31"
ROUTES = [
    OVERVIEW,
    "/api/v1/analytics/sales/?start_date=2026-01-01&end_date=2026-12-31",
    "/api/v1/analytics/products/",
    "/api/v1/analytics/customers/?start_date=2026-01-01&end_date=2026-12-31",
    "/api/v1/analytics/funnel/?start_date=2026-01-01&end_date=2026-12-31",
    "/api/v1/metrics/sales/?group_by=day&start_date=2026-01-01&end_date=2026-12-31",
    "/api/v1/orders/analytics/?start_date=2026-01-01&end_date=2026-12-31",
    "/api/v1/products/analytics/",
    "/api/v1/products/low_stock/",
    "/api/v1/products/top_selling/",
    "/api/v1/products/categories_summary/",
    "/api/v1/customers/analytics/",
    "/api/v1/customers/analytics_summary/",
    "/api/v1/customers/top_customers/",
    "/api/v1/customers/segments/",
    "/api/v1/customers/segments/champions/?limit=5",
    "/api/v1/customers/vip_customers/?limit=5",
    "/api/v1/customers/new_customers/?limit=5",
    "/api/v1/customers/inactive_customers/?limit=5",
]


@contextmanager
def worker(settings) -> Iterator[Flask]:
    """Another API worker of the same node: a fresh app, nothing cached in it."""
    app = create_app(settings)
    try:
        yield app
    finally:
        close_app(app)


def get(app: Flask, url: str, tenant_id: int):
    return app.test_client().get(url, headers=key_headers(app, tenant_id, "read"))


@pytest.fixture
def no_queries(monkeypatch):
    """Make any DuckDB query fail, so an answer can only come from a cache."""

    def refuse():
        raise AssertionError("this worker queried the marts")

    def arm():
        monkeypatch.setattr("warehouse.duck.connection", refuse)

    return arm


def answer_files(var_dir: Path) -> list[Path]:
    return sorted(answers_dir(var_dir).rglob("*.json"))


def test_another_worker_serves_the_answer_unchanged(served, no_queries):
    tenant = served.tenant_ids[SLUG]
    first = {url: get(served.app, url, tenant) for url in ROUTES}
    customer = first["/api/v1/customers/top_customers/"].get_json()["data"][0]["customer_id"]
    one = f"/api/v1/customers/{customer}/analytics/"
    first[one] = get(served.app, one, tenant)
    assert all(r.status_code == 200 for r in first.values()), {
        u: r.get_json() for u, r in first.items() if r.status_code != 200
    }
    assert len(answer_files(served.var_dir)) == len(first)

    no_queries()
    with worker(served.settings) as second:
        for url, response in first.items():
            again = get(second, url, tenant)
            assert again.status_code == 200, (url, again.get_json())
            assert again.data == response.data, url


def test_an_absent_customer_is_shared_as_absent(served, no_queries):
    tenant, url = served.tenant_ids[SLUG], "/api/v1/customers/no-such-customer/analytics/"
    assert get(served.app, url, tenant).status_code == 404
    no_queries()
    with worker(served.settings) as second:
        response = get(second, url, tenant)
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == "customer_id"


def test_answers_stay_with_their_tenant(served):
    mine, theirs = served.tenant_ids[SLUG], served.tenant_ids[OTHER]
    url = "/api/v1/customers/segments/"
    assert get(served.app, url, mine).status_code == 200
    with worker(served.settings) as second:
        other = get(second, url, theirs)
    with worker(served.settings.replace(mart_cache_entries=0)) as uncached:
        expected = get(uncached, url, theirs)
    assert other.status_code == expected.status_code == 200
    assert other.data == expected.data
    assert other.data != get(served.app, url, mine).data
    folders = {path.parent.name for path in answer_files(served.var_dir)}
    assert folders == {str(mine), str(theirs)}


def test_a_new_snapshot_starts_afresh(served):
    tenant = served.tenant_ids[SLUG]
    url = "/api/v1/products/categories_summary/"
    first = get(served.app, url, tenant).get_json()
    dropped = first["data"][0]["category_path"]
    build_id = republish(
        served.var_dir, "mart_category_summary", tenant, f"category_path <> '{dropped}'"
    )
    with worker(served.settings) as second:
        fresh = get(second, url, tenant).get_json()
    assert fresh["build_id"] == build_id
    assert fresh["data"] == first["data"][1:]


def test_two_workers_missing_together_compute_once(served, monkeypatch):
    tenant, computed = served.tenant_ids[SLUG], []
    real = overview.overview

    def slow_overview(*args, **kwargs):
        computed.append(threading.get_ident())
        time.sleep(0.3)  # long enough for the other worker to miss too
        return real(*args, **kwargs)

    monkeypatch.setattr(overview, "overview", slow_overview)
    bodies: list[bytes] = []
    with worker(served.settings) as second:
        apps = [served.app, second]
        headers = [key_headers(app, tenant, "read") for app in apps]

        def ask(i: int) -> None:
            bodies.append(apps[i].test_client().get(OVERVIEW, headers=headers[i]).data)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(computed) == 1
    assert len(bodies) == 2 and bodies[0] == bodies[1]


def test_a_damaged_answer_is_computed_again(served):
    tenant = served.tenant_ids[SLUG]
    expected = get(served.app, OVERVIEW, tenant).data
    [stored] = answer_files(served.var_dir)
    stored.write_bytes(stored.read_bytes()[:40])  # cut short, as a crash could leave it
    with worker(served.settings) as second:
        assert get(second, OVERVIEW, tenant).data == expected
    assert stored.read_bytes() != b"" and len(stored.read_bytes()) > 40


def test_answers_per_tenant_and_snapshot_are_bounded(served):
    tenant = served.tenant_ids[SLUG]
    with worker(served.settings.replace(mart_cache_entries=2)) as small:
        for limit in (3, 4, 5):
            url = f"/api/v1/products/top_selling/?limit={limit}"
            assert get(small, url, tenant).status_code == 200
    assert len(answer_files(served.var_dir)) == 2


def test_answers_leave_with_their_snapshot(served):
    tenant = served.tenant_ids[SLUG]
    old = get(served.app, OVERVIEW, tenant).get_json()["snapshot"]["build_id"]
    new = republish(served.var_dir, "mart_category_summary", tenant, "true")
    with worker(served.settings) as second:
        assert get(second, OVERVIEW, tenant).status_code == 200
    assert {p.name for p in answers_dir(served.var_dir).iterdir()} == {old, new}
    prune(served.var_dir, keep=1, grace_seconds=0)
    assert [p.name for p in answers_dir(served.var_dir).iterdir()] == [new]


def test_a_store_that_cannot_be_written_leaves_answers_unshared(served, caplog):
    tenant = served.tenant_ids[SLUG]
    answers_dir(served.var_dir).parent.mkdir(parents=True, exist_ok=True)
    answers_dir(served.var_dir).write_text("not a folder")  # e.g. a disk that refuses writes
    with worker(served.settings.replace(mart_cache_entries=0)) as uncached:
        expected = get(uncached, OVERVIEW, tenant).data
    assert get(served.app, OVERVIEW, tenant).data == expected
    assert "answers not shared" in caplog.text
