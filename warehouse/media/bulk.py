"""Bulk image upload as a background job: stage the files, then process them one by one.

The request stores each file's bytes as they came, under ``staging/<job_id>/<index>`` in the
tenant's storage (so any worker process or machine can reach them), enqueues one job and
answers 202. The job validates, renders and records each file on its own - one bad file is
reported and the rest still go in - reporting progress and per-file results after every file,
so a job taken over after a crash skips the files it already did. Staged files are deleted at
the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from warehouse.controldb import transaction
from warehouse.controldb.models import Job
from warehouse.jobs import enqueue, new_job_id
from warehouse.jobs.runner import JobContext
from warehouse.media import catalog
from warehouse.media.errors import ImageRejected
from warehouse.media.service import (
    FileResult,
    MediaEnv,
    Upload,
    checksum_of,
    delete_quietly,
    prepare,
    store,
)
from warehouse.storage import ObjectMissing

KIND = "images.bulk_upload"
GENERIC_TYPE = "application/octet-stream"


def start_bulk_upload(
    env: MediaEnv, tenant_id: int, product_id: str, uploads: Iterable[Upload], created_by: str
) -> Job:
    """Stage the uploads (one at a time: pass a generator) and enqueue the job processing them."""
    job_id = new_job_id()
    files: list[dict[str, Any]] = []
    try:
        for index, upload in enumerate(uploads):
            key = f"staging/{job_id}/{index}"
            env.storage.put(tenant_id, key, upload.data, GENERIC_TYPE)
            files.append(
                {
                    "index": index,
                    "filename": upload.filename,
                    "content_type": upload.content_type,
                    "key": key,
                }
            )
        params = {"product_id": product_id, "files": files}
        with transaction(env.sessions, write=True) as session:
            return enqueue(
                session,
                tenant_id,
                KIND,
                params,
                job_id=job_id,
                total=len(files),
                created_by=created_by,
            )
    except BaseException:
        delete_quietly(env.storage, tenant_id, [f["key"] for f in files])
        raise


def run_bulk_upload(context: JobContext) -> dict[str, Any]:
    """Process every staged file of a bulk upload job; return the per-file results."""
    env = MediaEnv.from_settings(context.settings, context.sessions)
    job = context.job
    product_id = job.params["product_id"]
    done = {entry["index"]: entry for entry in (job.result or {}).get("files", [])}
    for spec in job.params["files"]:
        if spec["index"] not in done:
            done[spec["index"]] = _process(env, job.tenant_id, product_id, spec)
            context.report(len(done), summary(product_id, done))
    delete_quietly(env.storage, job.tenant_id, [spec["key"] for spec in job.params["files"]])
    return summary(product_id, done)


def _process(env: MediaEnv, tenant_id: int, product_id: str, spec: dict) -> dict[str, Any]:
    index, filename = spec["index"], spec["filename"]
    try:
        data = env.storage.get(tenant_id, spec["key"])
    except ObjectMissing:
        return _entry(FileResult(index, filename, "refused", reason="the staged file is gone"))
    with env.sessions() as session:
        known = catalog.by_checksum(session, tenant_id, product_id, [checksum_of(data)])
    if known:  # identical bytes are already stored: no need to decode them again
        return _entry(FileResult(index, filename, "duplicate", next(iter(known.values()))))
    try:
        prepared = prepare(index, Upload(filename, spec["content_type"], data), env.limits)
    except ImageRejected as exc:
        return _entry(FileResult(index, filename, "refused", reason=exc.reason))
    (result,) = store(env, tenant_id, product_id, [prepared])
    return _entry(result)


def _entry(result: FileResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "index": result.index,
        "filename": result.filename,
        "status": result.status,
    }
    if result.image is not None:
        entry["image_id"] = result.image.id
    if result.reason is not None:
        entry["reason"] = result.reason
    return entry


def summary(product_id: str, done: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Return a bulk upload's result: per-file entries in upload order and counts."""
    files = [done[index] for index in sorted(done)]
    counts = {
        status: sum(f["status"] == status for f in files)
        for status in ("created", "duplicate", "refused")
    }
    return {"product_id": product_id, "files": files, **counts}
