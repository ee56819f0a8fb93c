"""Bulk image upload as a background job: 202, per-file results, primary rules, resumption."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from shoplake.cli import main
from tests.media_support import (
    distinct_png,
    files,
    image_bytes,
    make_shop,
    stop_job_runner,
    stored_keys,
    wait_for_job,
)
from warehouse.controldb import transaction
from warehouse.controldb.models import Job, utcnow
from warehouse.jobs import queue
from warehouse.jobs.runner import run_pending
from warehouse.media import MediaEnv, Upload
from warehouse.media.bulk import start_bulk_upload


@pytest.fixture
def shop(make, settings):
    return make_shop(make, settings)


@pytest.fixture(autouse=True)
def _jobs_stopped(app):
    yield
    stop_job_runner(app)


def images(client, shop, product="p1"):
    return client.get(shop.images_url(product), headers=shop.headers).get_json()["data"]


def test_bulk_upload_of_50_images(client, shop):
    items = [(f"img-{i:02}.png", distinct_png(i), "image/png") for i in range(50)]
    response = client.post(shop.images_url("p2"), data=files(*items), headers=shop.headers)
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    assert accepted["status"] in ("queued", "running", "succeeded") and accepted["total"] == 50
    assert response.headers["Location"] == accepted["url"]
    job = wait_for_job(client, shop.headers, accepted["url"])
    assert job["status"] == "succeeded" and job["progress"] == 50 and job["error"] is None
    result = job["result"]
    assert (result["created"], result["duplicate"], result["refused"]) == (50, 0, 0)
    assert [f["index"] for f in result["files"]] == list(range(50))
    assert [f["filename"] for f in result["files"]] == [name for name, _d, _t in items]
    listed = images(client, shop, "p2")
    assert [i["id"] for i in listed] == [f["image_id"] for f in result["files"]]
    assert [i["position"] for i in listed] == list(range(50))
    assert [i["is_primary"] for i in listed] == [True] + [False] * 49
    assert all(set(i["renditions"]) == {"original", "thumbnail", "medium", "large"} for i in listed)
    assert len(stored_keys(shop.settings, shop.tenant.id, "images")) == 200
    assert stored_keys(shop.settings, shop.tenant.id, "staging") == []
    thumb = listed[49]["renditions"]["thumbnail"]
    assert client.get(thumb["url"], headers=shop.headers).status_code == 200


def test_bulk_results_per_file_and_the_existing_primary_stays(client, shop):
    existing = image_bytes("PNG", (30, 30), (9, 9, 9))
    first = client.post(
        shop.images_url(), data=files(("first.png", existing)), headers=shop.headers
    )
    primary_id = first.get_json()["files"][0]["image_id"]
    items = [(f"{i}.png", distinct_png(100 + i)) for i in range(8)]
    items += [
        ("again.png", existing),  # bytes the product already has
        ("twice.png", distinct_png(100)),  # the same bytes as the first file of this upload
        ("notes.png", b"plain text, not an image"),
        ("bomb.png", image_bytes("PNG", (4000, 3000), 0, mode="1")),  # over a lowered limit below
    ]
    client.application.config["SHOPLAKE"] = shop.settings.replace(media_max_pixels=10_000_000)
    response = client.post(shop.images_url(), data=files(*items), headers=shop.headers)
    assert response.status_code == 202
    job = wait_for_job(client, shop.headers, response.get_json()["url"])
    assert job["status"] == "succeeded"
    by_name = {f["filename"]: f for f in job["result"]["files"]}
    assert [by_name[f"{i}.png"]["status"] for i in range(8)] == ["created"] * 8
    assert by_name["again.png"] == {
        "index": 8,
        "filename": "again.png",
        "status": "duplicate",
        "image_id": primary_id,
    }
    assert by_name["twice.png"]["image_id"] == by_name["0.png"]["image_id"]
    assert (
        by_name["notes.png"]["status"] == "refused"
        and "not a JPEG" in by_name["notes.png"]["reason"]
    )
    assert (
        by_name["bomb.png"]["status"] == "refused" and "4000x3000" in by_name["bomb.png"]["reason"]
    )
    assert (job["result"]["created"], job["result"]["duplicate"], job["result"]["refused"]) == (
        8,
        2,
        2,
    )
    listed = images(client, shop)
    assert len(listed) == 9 and [i["id"] for i in listed if i["is_primary"]] == [primary_id]


def test_prefer_respond_async_makes_even_one_file_a_job(client, shop):
    response = client.post(
        shop.images_url(),
        data=files(("a.png", image_bytes())),
        headers={**shop.headers, "Prefer": "respond-async"},
    )
    assert response.status_code == 202
    assert wait_for_job(client, shop.headers, response.get_json()["url"])["status"] == "succeeded"


def test_a_job_abandoned_by_a_dead_worker_is_resumed(app, shop):
    env = MediaEnv.from_settings(shop.settings, app.extensions["shoplake.sessions"])
    uploads = [Upload(f"{i}.png", "image/png", distinct_png(200 + i)) for i in range(3)]
    job = start_bulk_upload(env, shop.tenant.id, "p1", uploads, "key:test")
    sessions = env.sessions
    stale = timedelta(seconds=shop.settings.jobs_stale_seconds)
    claimed = queue.claim(sessions, job.id, stale)
    assert claimed is not None and queue.claim(sessions, job.id, stale) is None  # taken
    done = {"index": 0, "filename": "0.png", "status": "refused", "reason": "marker"}
    queue.report(sessions, job.id, 1, {"product_id": "p1", "files": [done]})
    assert run_pending(shop.settings, sessions) == 0  # its worker is still alive
    with transaction(sessions) as session:  # ... then it dies: the heartbeat goes stale
        old = utcnow() - stale - timedelta(seconds=1)
        session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=old))
    assert run_pending(shop.settings, sessions) == 1
    with sessions() as session:
        finished = session.get(Job, job.id)
    assert finished.status == "succeeded" and finished.attempts == 2
    assert finished.result["files"][0] == done  # the file done before the crash is kept
    assert [f["status"] for f in finished.result["files"][1:]] == ["created", "created"]
    assert stored_keys(shop.settings, shop.tenant.id, "staging") == []


def test_a_job_that_keeps_dying_is_failed(app, shop):
    env = MediaEnv.from_settings(shop.settings, app.extensions["shoplake.sessions"])
    job = start_bulk_upload(env, shop.tenant.id, "p1", [Upload("a.png", "", image_bytes())], "t")
    for _attempt in range(queue.MAX_ATTEMPTS):
        assert queue.claim(env.sessions, job.id, timedelta(seconds=-1)) is not None
    assert queue.claim(env.sessions, job.id, timedelta(seconds=-1)) is None
    with env.sessions() as session:
        failed = session.get(Job, job.id)
    assert failed.status == "failed" and "gave up" in failed.error


def test_external_workers_run_jobs_with_the_cli(app, client, shop):
    settings = shop.settings.replace(jobs_runner="external")
    app.config["SHOPLAKE"] = settings
    items = [(f"{i}.png", distinct_png(300 + i)) for i in range(11)]
    response = client.post(shop.images_url(), data=files(*items), headers=shop.headers)
    assert response.status_code == 202
    url = response.get_json()["url"]
    assert client.get(url, headers=shop.headers).get_json()["status"] == "queued"
    env = {
        "SHOPLAKE_ENV": "test",
        "SHOPLAKE_VAR_DIR": str(settings.var_dir),
        "SHOPLAKE_DATABASE_URL": settings.database_url,
        "SHOPLAKE_SECRET_KEY": settings.secret_key,
    }
    result = CliRunner().invoke(main, ["jobs", "run", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "Ran 1 job(s)." in result.output
    job = client.get(url, headers=shop.headers).get_json()
    assert job["status"] == "succeeded" and job["result"]["created"] == 11
