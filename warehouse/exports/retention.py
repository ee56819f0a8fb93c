"""Retention of exports: finished exports older than ``export_retention_hours`` are removed.

Each export job sweeps before it starts, and ``shoplake export cleanup`` runs the same sweep
(for a cron). Reads treat an expired export as gone even before a sweep removed it. The sweep
also removes files no job row owns any more (an export deleted while its job was writing).
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from warehouse.controldb import transaction
from warehouse.controldb.models import Job, utcnow
from warehouse.exports.files import JOB_ID, LOCK_SUFFIX, WORK_PREFIX, exports_root, files_of
from warehouse.exports.spec import KIND
from warehouse.jobs import JobStatus

log = logging.getLogger("shoplake.exports")
ORPHAN_MIN_AGE_SECONDS = 300  # never race a job that is creating its first file


def cutoff(retention_hours: float, now: datetime | None = None) -> datetime:
    """Return the finish time before which an export has expired."""
    return (now or utcnow()) - timedelta(hours=retention_hours)


def live(retention_hours: float, now: datetime | None = None) -> ColumnElement[bool]:
    """Return the condition of an export that has not expired (for queries)."""
    return or_(Job.finished_at.is_(None), Job.finished_at >= cutoff(retention_hours, now))


def remove_expired(
    sessions: sessionmaker[Session], var_dir: Path, retention_hours: float, now=None
) -> list[str]:
    """Delete expired exports (rows and files) and unowned files; return the job ids removed."""
    finished = (JobStatus.SUCCEEDED, JobStatus.FAILED)
    with transaction(sessions, write=True) as session:
        jobs = session.scalars(
            select(Job).where(
                Job.kind == KIND,
                Job.status.in_(finished),
                Job.finished_at < cutoff(retention_hours, now),
            )
        ).all()
        doomed = [files_of(var_dir, job) for job in jobs]
        ids = [job.id for job in jobs]
        if ids:
            session.execute(delete(Job).where(Job.id.in_(ids)))
    for files in doomed:
        files.remove()
    orphans = _remove_orphans(sessions, var_dir, now)
    if ids or orphans:
        log.info("expired exports removed", extra={"jobs": len(ids), "orphans": len(orphans)})
    return ids


def _remove_orphans(sessions: sessionmaker[Session], var_dir: Path, now) -> list[Path]:
    entries = [(path, _job_id(path.name)) for path in exports_root(var_dir).glob("*/*")]
    entries = [(path, job_id) for path, job_id in entries if job_id is not None]
    if not entries:
        return []
    with sessions() as session:
        owned = set(session.scalars(select(Job.id).where(Job.kind == KIND)))
    oldest = (now or utcnow()).timestamp() - ORPHAN_MIN_AGE_SECONDS
    removed = []
    for path, job_id in entries:
        if job_id in owned or path.stat().st_mtime > oldest:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _job_id(name: str) -> str | None:
    if name.startswith(WORK_PREFIX):
        candidate = name[len(WORK_PREFIX) :]
    elif name.startswith(".") and name.endswith(LOCK_SUFFIX):
        candidate = name[1 : -len(LOCK_SUFFIX)]
    else:
        candidate = name.split(".", 1)[0]
    return candidate if JOB_ID.match(candidate) else None
