"""The job queue in the control DB: enqueue, claim atomically, report progress, finish.

A job is claimed by one conditional UPDATE (queued, or running with a stale heartbeat), so two
workers - threads of one API process, other API processes, ``shoplake jobs run`` - never run
the same job at once, on SQLite or PostgreSQL. A job taken over after its worker died resumes
from its last reported partial result; after :data:`MAX_ATTEMPTS` claims it is failed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from warehouse.controldb import transaction
from warehouse.controldb.models import Job, utcnow
from warehouse.controlplane.errors import NotFound

MAX_ATTEMPTS = 3
MAX_ERROR_CHARS = 2000


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def new_job_id() -> str:
    """Return a fresh, unguessable job id."""
    return uuid.uuid4().hex


def enqueue(
    session: Session,
    tenant_id: int,
    kind: str,
    params: dict[str, Any],
    *,
    job_id: str | None = None,
    total: int | None = None,
    created_by: str = "",
) -> Job:
    """Add a queued job in the caller's transaction; it runs once that commits."""
    job = Job(
        id=job_id or new_job_id(),
        tenant_id=tenant_id,
        kind=kind,
        status=JobStatus.QUEUED,
        params=params,
        progress=0,
        total=total,
        attempts=0,
        created_by=created_by,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, tenant_id: int, job_id: str, kind: str | None = None) -> Job:
    """Return one of the tenant's jobs, or raise NotFound."""
    query = select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    job = session.scalar(query)
    if job is None:
        raise NotFound("job_id", f"no job {job_id!r}")
    return job


def _claimable(stale_before: datetime):
    stale = and_(Job.status == JobStatus.RUNNING, Job.heartbeat_at < stale_before)
    return or_(Job.status == JobStatus.QUEUED, stale)


def claim(factory: sessionmaker[Session], job_id: str, stale_after: timedelta) -> Job | None:
    """Take a job for this worker if it is queued or abandoned; None if someone else has it."""
    now = utcnow()
    with transaction(factory) as session:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, _claimable(now - stale_after))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                heartbeat_at=now,
                started_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        job = session.get(Job, job_id)
        if job is not None and job.attempts > MAX_ATTEMPTS:
            _finish(job, JobStatus.FAILED, None, f"gave up after {MAX_ATTEMPTS} attempts")
            return None
        return job


def claimable_ids(factory: sessionmaker[Session], stale_after: timedelta, limit: int) -> list[str]:
    """Return ids of jobs waiting for a worker, oldest first."""
    query = (
        select(Job.id)
        .where(_claimable(utcnow() - stale_after))
        .order_by(Job.created_at, Job.id)
        .limit(limit)
    )
    with factory() as session:
        return list(session.scalars(query))


def report(factory: sessionmaker[Session], job_id: str, progress: int, result: dict | None) -> None:
    """Record progress and the partial result of a running job (also its heartbeat)."""
    with transaction(factory) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
            .values(progress=progress, result=result, heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def finish(
    factory: sessionmaker[Session],
    job_id: str,
    status: JobStatus,
    result: dict | None,
    error: str | None = None,
) -> None:
    """Mark a job succeeded or failed with its result."""
    with transaction(factory) as session:
        job = session.get(Job, job_id)
        if job is not None:
            _finish(job, status, result, error)


def _finish(job: Job, status: JobStatus, result: dict | None, error: str | None) -> None:
    now = utcnow()
    job.status = status
    if result is not None:  # a failed job keeps the partial result it last reported
        job.result = result
    job.error = error[:MAX_ERROR_CHARS] if error else None
    job.finished_at = now
    job.heartbeat_at = now
    if status is JobStatus.SUCCEEDED and job.total is not None:
        job.progress = job.total
