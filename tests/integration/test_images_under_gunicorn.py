"""Bulk image jobs really run under ``shoplake serve``: gunicorn, preloaded app, 2 workers.

The job is processed by a thread pool inside whichever worker took the upload, after the fork;
the test polls it through the same server (any worker may answer) and fetches the result.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.media_support import distinct_png, make_shop
from tests.s3_server import free_port

pytestmark = pytest.mark.timeout(180)


def _serve(settings, port: int, log) -> subprocess.Popen:
    script = Path(sys.executable).with_name("shoplake")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "shoplake"]
    env = {
        **os.environ,
        "SHOPLAKE_ENV": "test",
        "SHOPLAKE_VAR_DIR": str(settings.var_dir),
        "SHOPLAKE_DATABASE_URL": settings.database_url,
        "SHOPLAKE_SECRET_KEY": settings.secret_key,
        "SHOPLAKE_JOBS_THREADS": "1",
    }
    return subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def _wait(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"server did not start: {log.read_text()[-3000:]}")


def test_bulk_upload_job_runs_inside_gunicorn_workers(make, settings, tmp_path):
    shop = make_shop(make, settings)
    port, log = free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as stderr:
        process = _serve(settings, port, stderr)
    try:
        _wait(base, process, log)
        parts = [("file", (f"{i}.png", distinct_png(i), "image/png")) for i in range(12)]
        url = base + shop.images_url()
        response = requests.post(url, files=parts, headers=shop.headers, timeout=30)
        assert response.status_code == 202, response.text
        job_url = base + response.headers["Location"]
        deadline = time.monotonic() + 60
        while (job := requests.get(job_url, headers=shop.headers, timeout=10).json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["status"] == "succeeded" and job["result"]["created"] == 12, job
        listed = requests.get(url, headers=shop.headers, timeout=10).json()["data"]
        signed = base + listed[11]["renditions"]["thumbnail"]["signed_url"]
        image = requests.get(signed, timeout=10)  # no credentials
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/webp"
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()[-3000:]
