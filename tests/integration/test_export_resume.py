"""Exports survive interruptions: a killed job resumes from its checkpoint and writes the same
file; a queued export survives a restart; a download cut short over real HTTP resumes with
Range and verifies its SHA-256.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from werkzeug.serving import make_server

from serving import close_app, create_app
from shoplake.cli import main
from tests.exports_support import (
    SLUG_A,
    create,
    expected_in,
    export_bytes,
    key_headers,
    mart_rows,
    project,
    read_back,
    wait,
)
from tests.media_support import stop_job_runner
from warehouse.controldb import transaction
from warehouse.controldb.models import Job, utcnow
from warehouse.exports import run_export
from warehouse.jobs import JobStatus, queue
from warehouse.jobs.runner import JobContext, run_pending, stale_after

CHUNK = 100  # order_items of the tenant: 886 rows, 9 chunks


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs, no handler catches it."""


class DiesAfter(JobContext):
    """A job context whose process dies at the ``reports``-th progress report + 1."""

    def __init__(self, *args, reports: int) -> None:
        super().__init__(*args)
        self.left = reports

    def report(self, progress, result) -> None:
        if self.left == 0:
            raise Killed
        self.left -= 1
        super().report(progress, result)


@pytest.fixture
def settings_(served):
    settings = served.settings.replace(jobs_runner="external", export_chunk_rows=CHUNK)
    served.app.config["SHOPLAKE"] = settings
    return settings


@pytest.fixture
def api(served):
    yield served.app.test_client()
    stop_job_runner(served.app)


def sessions_of(served):
    return served.app.extensions["shoplake.sessions"]


def kill_after(served, settings, job_id: str, reports: int) -> Job:
    """Claim a job and run its handler until the process 'dies'; return the job as left."""
    sessions = sessions_of(served)
    job = queue.claim(sessions, job_id, stale_after(settings))
    with pytest.raises(Killed):
        run_export(DiesAfter(job, settings, sessions, reports=reports))
    with transaction(sessions) as session:  # as after a crash: running, heartbeat stale
        past = utcnow() - timedelta(hours=1)
        session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=past))
        return session.get(Job, job_id)


EVERY_STATUS = {"status": ["cancelled", "fulfilled", "paid", "partially_refunded", "refunded"]}


@pytest.mark.parametrize(
    ("fmt", "compression", "filters", "resumes_at"),
    [
        ("csv", "gzip", {}, 300),
        ("json", "none", {}, 300),
        # A lookup filter: the scan restarts at row 0 and the rows written are skipped.
        ("json", "gzip", EVERY_STATUS, 300),
        ("parquet", "none", {}, 300),
        ("xlsx", "none", {}, 0),  # a workbook cannot be continued: it is written again
    ],
)
def test_a_killed_export_resumes_from_its_checkpoint(
    served, settings_, api, fmt, compression, filters, resumes_at
):
    headers = key_headers(served, SLUG_A)
    body = {"report": "order_items", "format": fmt, "compression": compression}
    body["filters"] = filters
    interrupted = create(api, headers, **body).get_json()
    control = create(api, headers, **body).get_json()
    # Three chunks are checkpointed; the fourth is written but the process dies before its
    # checkpoint, so the resumed run must drop it and write it again.
    left = kill_after(served, settings_, interrupted["id"], reports=3)
    assert left.status == JobStatus.RUNNING and left.progress == 300
    assert left.result["checkpoint"]["state"]["rows"] == 300
    assert run_pending(settings_, sessions_of(served)) == 2  # takes over the dead one, runs both
    resumed = wait(api, headers, interrupted["url"])
    whole = wait(api, headers, control["url"])
    assert resumed["status"] == whole["status"] == "succeeded"
    assert resumed["file"]["sha256"] == whole["file"]["sha256"]
    with transaction(sessions_of(served)) as session:
        assert session.get(Job, interrupted["id"]).result["resumed_from"] == [0, resumes_at]
        assert session.get(Job, control["id"]).result["resumed_from"] == [0]
    with api.get(resumed["download_url"], headers=headers) as download:
        rows = read_back(fmt, download.get_data(), compression)
    expected = project(mart_rows(served, "fct_order_items", SLUG_A))
    assert rows == expected_in(fmt, expected) and len(rows) == 886


def test_a_job_killed_while_finishing_completes_on_resume(served, settings_, api):
    headers = key_headers(served, SLUG_A)
    accepted = create(api, headers, report="order_items", format="parquet").get_json()
    kill_after(served, settings_, accepted["id"], reports=9)  # every chunk, not the final one
    run_pending(settings_, sessions_of(served))
    done = wait(api, headers, accepted["url"])
    assert done["status"] == "succeeded" and done["progress"] == 886
    with transaction(sessions_of(served)) as session:
        assert session.get(Job, accepted["id"]).result["resumed_from"] == [0, 886]


def test_a_queued_export_survives_a_restart(served, settings_, api):
    headers = key_headers(served, SLUG_A)
    accepted = create(api, headers, report="customers", format="csv").get_json()
    close_app(served.app)  # the API process goes away with the job still queued
    restarted = create_app(settings_)
    try:
        sessions = restarted.extensions["shoplake.sessions"]
        assert run_pending(settings_, sessions) == 1  # e.g. `shoplake jobs run`
        client = restarted.test_client()
        done = wait(client, headers, accepted["url"])
        with client.get(done["download_url"], headers=headers) as download:
            rows = read_back("csv", download.get_data())
        expected = project(mart_rows(served, "dim_customers", SLUG_A))
        assert rows == expected_in("csv", expected)
    finally:
        close_app(restarted)


class RangeLog:
    """WSGI middleware remembering the Range header of each download request."""

    def __init__(self, app) -> None:
        self.app, self.ranges = app, []

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].endswith("/download"):
            self.ranges.append(environ.get("HTTP_RANGE"))
        return self.app(environ, start_response)


@pytest.fixture
def http_base(served):
    logged = RangeLog(served.app.wsgi_app)
    served.app.wsgi_app = logged
    server = make_server("127.0.0.1", 0, served.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", logged
    server.shutdown()
    thread.join()
    stop_job_runner(served.app)


def test_the_download_client_resumes_over_http(served, http_base, tmp_path):
    base, logged = http_base
    key = key_headers(served, SLUG_A)["X-API-Key"]
    runner = CliRunner()
    api = ["--url", base, "--api-key", key]
    created = runner.invoke(main, ["export", "create", "order_items", "--gzip", *api])
    assert created.exit_code == 0, created.output
    status_url = created.stdout.strip().splitlines()[-1]
    assert status_url.startswith(base) and status_url.endswith("/")
    out = tmp_path / "items.csv.gz"
    cut = runner.invoke(main, ["export", "download", status_url, "--out", str(out), *api,
                               "--stop-after", "5000"])  # fmt: skip
    assert cut.exit_code == 1 and "run again to resume" in cut.output
    part = tmp_path / "items.csv.gz.part"
    assert part.stat().st_size == 5000 and not out.exists()
    job_id = status_url.rstrip("/").rsplit("/", 1)[1]
    done = runner.invoke(main, ["export", "download", job_id, "--out", str(out), *api])
    assert done.exit_code == 0, done.output
    assert "resumed at byte 5000" in done.output and "verified" in done.output
    assert logged.ranges == [None, "bytes=5000-"]
    served_file = next((served.var_dir / "exports").glob(f"*/{job_id}.csv.gz"))
    assert out.read_bytes() == served_file.read_bytes() and not part.exists()
    expected = project(mart_rows(served, "fct_order_items", SLUG_A))
    assert read_back("csv", out.read_bytes(), "gzip") == expected_in("csv", expected)


def test_a_corrupt_partial_download_is_refused_and_removed(served, http_base, tmp_path):
    base, _logged = http_base
    headers = key_headers(served, SLUG_A)
    export, data = export_bytes(served.app.test_client(), headers, report="orders")
    out = tmp_path / "orders.csv"
    (tmp_path / "orders.csv.part").write_bytes(b"X" * 100)  # not a prefix of the file
    args = ["export", "download", export["id"], "--out", str(out), "--url", base]
    refused = CliRunner().invoke(main, [*args, "--api-key", headers["X-API-Key"]])
    assert refused.exit_code == 1 and "SHA-256 mismatch" in refused.output
    assert not (tmp_path / "orders.csv.part").exists() and not out.exists()
    again = CliRunner().invoke(main, [*args, "--api-key", headers["X-API-Key"]])
    assert again.exit_code == 0 and out.read_bytes() == data
