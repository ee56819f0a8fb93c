"""Per-app access to the media services for views: environment, URL signer, job runner,
and reading a multipart image upload part by part (a bulk upload never holds every file in
memory at once: each is read, staged and dropped before the next).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from flask import Flask, current_app, request
from werkzeug.datastructures import FileStorage

from serving.db import session_factory
from serving.errors import ApiError, FieldError, bad_request, unprocessable
from warehouse.jobs.runner import ThreadRunner
from warehouse.media import ImagesRefused, MediaEnv, Upload, UrlSigner
from warehouse.media.formats import clean_filename
from warehouse.storage import check_storage_url

RUNNER_EXTENSION = "shoplake.job_runner"
MULTIPART = "multipart/form-data"


def media_env() -> MediaEnv:
    """Return the media services' environment for the running app."""
    return MediaEnv.from_settings(current_app.config["SHOPLAKE"], session_factory())


def url_signer() -> UrlSigner:
    """Return the signer of rendition URLs for the running app."""
    settings = current_app.config["SHOPLAKE"]
    return UrlSigner(settings.secret_key, settings.media_signed_url_seconds)


def job_runner(app: Flask) -> ThreadRunner:
    """Return this process's background job runner (a forked worker builds its own)."""
    settings = app.config["SHOPLAKE"]
    runner = app.extensions.get(RUNNER_EXTENSION)
    if runner is None or runner.pid != os.getpid() or runner.settings is not settings:
        if runner is not None and runner.pid == os.getpid():
            runner.shutdown(wait=False)  # settings were replaced: its running jobs still finish
        runner = ThreadRunner(settings, app.extensions["shoplake.sessions"])
        app.extensions[RUNNER_EXTENSION] = runner
    return runner


def check_media_settings(app: Flask) -> None:
    """Refuse unknown media storage or job runner settings (at start-up)."""
    check_storage_url(app.config["SHOPLAKE"])
    job_runner(app)


def file_parts() -> list[FileStorage]:
    """Return the file parts of a multipart upload (werkzeug spools large ones to disk)."""
    settings = current_app.config["SHOPLAKE"]
    if request.mimetype != MULTIPART:
        raise ApiError(
            415,
            "Unsupported Media Type",
            f"Send the images as {MULTIPART}, one file per part.",
            "unsupported-media-type",
            [FieldError("Content-Type", f"expected {MULTIPART}")],
        )
    parts = [part for _name, part in request.files.items(multi=True)]
    if not parts:
        raise bad_request("The request has no file parts.", FieldError("file", "send a file"))
    if len(parts) > settings.media_max_files:
        raise unprocessable(
            "Too many files in one request.",
            FieldError("file", f"at most {settings.media_max_files} files per request"),
        )
    return parts


def read_uploads(parts: list[FileStorage]) -> Iterator[Upload]:
    """Read the parts one at a time, each only up to one byte past the file size limit."""
    limit = current_app.config["SHOPLAKE"].media_max_file_bytes + 1  # enough to refuse
    for index, part in enumerate(parts):
        yield Upload(
            clean_filename(part.filename, index), part.mimetype or "", part.stream.read(limit)
        )


def refused_problem(exc: ImagesRefused, count: int) -> ApiError:
    """Return the 422 problem naming every refused file of an upload."""
    refusals = exc.refusals
    return ApiError(
        422,
        "Unprocessable Content",
        f"{len(refusals)} of {count} file(s) refused; nothing was stored.",
        "image-refused",
        [FieldError(r.filename, r.reason) for r in refusals],
        extra={"files": [r.as_dict() for r in refusals]},
    )
