"""Export operations the API calls: start one, list, show, locate the file, delete.

Every read is scoped to the tenant and to the export job kind, so another tenant's export id
is simply not found. Expired exports (see :mod:`warehouse.exports.retention`) are not found
either, even before a sweep has removed them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb import transaction
from warehouse.controldb.models import Job
from warehouse.controlplane.errors import Conflict, NotFound
from warehouse.exports.files import files_of
from warehouse.exports.query import count_rows
from warehouse.exports.retention import live
from warehouse.exports.spec import KIND, ExportRequest, ExportSpec, resolve
from warehouse.jobs import JobStatus, enqueue
from warehouse.marts import TenantMarts


@dataclass(frozen=True)
class ExportFile:
    """A finished export on disk and how to serve it."""

    path: Path
    name: str
    content_type: str
    size: int
    sha256: str


def start_export(
    sessions: sessionmaker[Session],
    marts: TenantMarts,
    timezone: str,
    request: ExportRequest,
    *,
    chunk_rows: int,
    created_by: str,
) -> Job:
    """Pin the snapshot ``marts`` read, check the request, count its rows and enqueue the job."""
    spec = resolve(request, marts.snapshot, timezone, chunk_rows)
    total = count_rows(marts, spec)
    with transaction(sessions, write=True) as session:
        return enqueue(
            session, marts.tenant_id, KIND, spec.to_params(), total=total, created_by=created_by
        )


def list_exports(session: Session, tenant_id: int, retention_hours: float, limit: int) -> list[Job]:
    """Return the tenant's live exports, newest first."""
    query = (
        select(Job)
        .where(Job.tenant_id == tenant_id, Job.kind == KIND, live(retention_hours))
        .order_by(Job.created_at.desc(), Job.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def get_export(session: Session, tenant_id: int, job_id: str, retention_hours: float) -> Job:
    """Return one of the tenant's live exports, or raise NotFound."""
    job = session.scalar(
        select(Job).where(
            Job.tenant_id == tenant_id,
            Job.id == job_id,
            Job.kind == KIND,
            live(retention_hours),
        )
    )
    if job is None:
        raise NotFound("job_id", f"no export {job_id!r}")
    return job


def export_file(var_dir: Path, job: Job) -> ExportFile:
    """Return the finished file of an export (409 until it has succeeded)."""
    if job.status != JobStatus.SUCCEEDED:
        raise Conflict("status", f"the export is {job.status}; download it once it has succeeded")
    described = (job.result or {})["file"]
    path = files_of(var_dir, job).final
    if not path.exists():
        raise NotFound("job_id", "the export's file is gone")
    return ExportFile(
        path, described["name"], described["content_type"], described["bytes"], described["sha256"]
    )


def delete_export(
    sessions: sessionmaker[Session], var_dir: Path, tenant_id: int, job_id: str, retention: float
) -> None:
    """Delete an export: its job row, then its files (a running job notices and stops)."""
    with transaction(sessions, write=True) as session:
        job = get_export(session, tenant_id, job_id, retention)
        files = files_of(var_dir, job)
        session.delete(job)
    files.remove()


def spec_of(job: Job) -> ExportSpec:
    """Return the spec an export job was created with."""
    return ExportSpec.from_params(job.params)
