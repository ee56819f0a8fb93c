"""The export job: stream the pinned snapshot's rows into a file, one checkpointed chunk at a time.

After each chunk is durably written (rows go to the writer in small pieces as they are read)
the job reports its rows as progress and the writer's state as the checkpoint (its partial
result). A worker that takes the job over after a crash
(``warehouse.jobs.runner``) hands the handler that partial result: the writer resumes from
it, the reader skips the rows already written, and the file ends up byte-identical to an
uninterrupted run. The finished file is hashed, recorded as a "final" checkpoint, then renamed
into place - so a crash between rename and the job's end is also resumed correctly.

The job reads the snapshot whose build id its params name. Snapshots outlive their
replacement only by ``snapshot_grace_seconds``; a job that finds its snapshot gone fails with
a message saying so (field ``build_id``) instead of reading a different one.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from warehouse.controldb.models import Job
from warehouse.errors import ServiceError
from warehouse.exports.files import ExportFiles, exclusive, files_of, sha256_of
from warehouse.exports.query import read_chunks
from warehouse.exports.retention import remove_expired
from warehouse.exports.spec import KIND, ExportSpec
from warehouse.exports.spreadsheet import build_time
from warehouse.exports.writers import make_writer
from warehouse.jobs.runner import JobContext
from warehouse.marts import TenantMarts
from warehouse.publish import NoSnapshot, Snapshot, open_snapshot

__all__ = ["KIND", "ExportDeleted", "SnapshotGone", "download_name", "run_export"]
log = logging.getLogger("shoplake.exports")


class SnapshotGone(ServiceError):
    """The snapshot an export was pinned to has been removed by retention."""

    status = 410


class ExportDeleted(ServiceError):
    """The export was deleted while its job ran."""

    status = 404


def download_name(spec: ExportSpec, job_id: str) -> str:
    """Return the file name a client saves the export as."""
    return f"{spec.report}-{build_time(spec.build_id):%Y%m%d}-{job_id[:8]}{spec.extension}"


def run_export(context: JobContext) -> dict[str, Any]:
    """Write (or finish writing) one export file; return what was produced."""
    settings, job = context.settings, context.job
    _sweep(context)
    files = files_of(settings.var_dir, job)
    with exclusive(files.lock):  # a stalled worker still running it keeps its file to itself
        checkpoint = _latest_checkpoint(context)
        spec = ExportSpec.from_params(job.params)
        final = checkpoint.get("final")
        if final and files.final.exists() and files.final.stat().st_size == final["bytes"]:
            return _result(spec, job.id, checkpoint)
        marts = TenantMarts(_pinned(settings.var_dir, spec.build_id), job.tenant_id)
        return _write(context, spec, files, marts, checkpoint)


def _write(
    context: JobContext,
    spec: ExportSpec,
    files: ExportFiles,
    marts: TenantMarts,
    checkpoint: dict[str, Any],
) -> dict[str, Any]:
    writer = make_writer(spec, files.work)
    start = writer.resume(checkpoint.get("state"))
    history = [*checkpoint.get("resumed_from", []), start]
    state = writer.state()
    try:
        with read_chunks(marts, spec, start) as chunks:
            for piece in chunks.pieces:
                if piece is not None:
                    writer.append(piece)
                    continue
                state = writer.commit()  # the chunk is durable: checkpoint it
                _still_wanted(context, files)
                _report(context, {"state": state, "resumed_from": history})
            built = writer.finish(chunks.schema)
    except BaseException as exc:  # also on shutdown: release files, keep the work folder
        writer.abort()
        if isinstance(exc, Exception) and not marts.snapshot.path.exists():
            raise _gone(spec.build_id) from exc  # removed while we were reading it
        raise
    return _publish(context, spec, files, built, {"state": state, "resumed_from": history})


def _publish(
    context: JobContext, spec: ExportSpec, files: ExportFiles, built: Path, checkpoint: dict
) -> dict[str, Any]:
    size, digest = sha256_of(built)
    checkpoint = {**checkpoint, "final": {"bytes": size, "sha256": digest}}
    _report(context, checkpoint)  # first: a crash after the rename still finds the digest
    files.publish(built)
    shutil.rmtree(files.work, ignore_errors=True)
    log.info("export written", extra={"rows": checkpoint["state"]["rows"], "bytes": size})
    return _result(spec, context.job.id, checkpoint)


def _result(spec: ExportSpec, job_id: str, checkpoint: dict[str, Any]) -> dict[str, Any]:
    final = checkpoint["final"]
    return {
        "rows": checkpoint["state"]["rows"],
        "build_id": spec.build_id,
        "resumed_from": checkpoint["resumed_from"],
        "file": {
            "name": download_name(spec, job_id),
            "content_type": spec.content_type,
            "bytes": final["bytes"],
            "sha256": final["sha256"],
        },
    }


def _report(context: JobContext, checkpoint: dict[str, Any]) -> None:
    context.report(checkpoint["state"]["rows"], {"checkpoint": checkpoint})


def _latest_checkpoint(context: JobContext) -> dict[str, Any]:
    # Re-read under the lock: a worker that held it may have got further than our claim saw.
    with context.sessions() as session:
        result = session.scalar(select(Job.result).where(Job.id == context.job.id))
    return dict((result or {}).get("checkpoint") or {})


def _still_wanted(context: JobContext, files: ExportFiles) -> None:
    with context.sessions() as session:
        exists = session.scalar(select(Job.id).where(Job.id == context.job.id))
    if exists is None:
        shutil.rmtree(files.work, ignore_errors=True)
        raise ExportDeleted("job_id", "the export was deleted while it ran")


def _pinned(var_dir: Path, build_id: str) -> Snapshot:
    try:
        snapshot = open_snapshot(var_dir, build_id)
    except NoSnapshot:
        raise _gone(build_id) from None
    if not snapshot.path.exists():  # manifests are cached by path; the folder is the truth
        raise _gone(build_id)
    return snapshot


def _gone(build_id: str) -> SnapshotGone:
    return SnapshotGone(
        "build_id",
        f"the snapshot this export reads ({build_id}) is gone: replaced snapshots are kept "
        "for snapshot_grace_seconds; start a new export",
    )


def _sweep(context: JobContext) -> None:
    """Remove expired exports on the way (retention must never fail an export)."""
    try:
        remove_expired(
            context.sessions, context.settings.var_dir, context.settings.export_retention_hours
        )
    except Exception:
        log.exception("export retention sweep failed")
