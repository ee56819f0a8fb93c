"""Run queued jobs: in a thread pool inside each API process, or in ``shoplake jobs run``.

Why a thread pool in the server works under gunicorn: the pool is created lazily in the process
that uses it (after the fork - a pool built in the preloading master would have no threads in
the workers) and its threads run beside the sync worker's request loop, which keeps answering
requests and heartbeats meanwhile. A worker that exits gracefully lets its running jobs finish
(Python joins pool threads at exit, within gunicorn's graceful timeout); one that is killed
leaves its job ``running`` with a stale heartbeat, and the next thread to look for work - after
any job ends in any process, or a ``shoplake jobs run`` worker - takes it over and resumes it.
With ``jobs_runner=external`` the API only enqueues, and dedicated workers run everything.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from warehouse import logs
from warehouse.config import Settings, SettingsError
from warehouse.controldb.models import Job
from warehouse.errors import ServiceError
from warehouse.jobs import queue
from warehouse.jobs.queue import JobStatus

log = logging.getLogger("shoplake.jobs")
RUNNER_MODES = ("thread", "external")


@dataclass
class JobContext:
    """What a handler gets: its job, the settings, sessions, and a way to report progress."""

    job: Job
    settings: Settings
    sessions: sessionmaker[Session]

    def report(self, progress: int, result: dict[str, Any] | None) -> None:
        """Record how far the job got and its partial result (resumed from after a crash)."""
        queue.report(self.sessions, self.job.id, progress, result)


Handler = Callable[[JobContext], dict[str, Any]]


def _handlers() -> dict[str, Handler]:
    from warehouse.jobs.handlers import HANDLERS  # late: handlers import the queue they feed

    return HANDLERS


def stale_after(settings: Settings) -> timedelta:
    """Return how long a running job may go without a heartbeat before it is taken over."""
    return timedelta(seconds=settings.jobs_stale_seconds)


def run_job(settings: Settings, sessions: sessionmaker[Session], job_id: str) -> bool:
    """Claim and run one job; return False if it was not claimable (done, or taken)."""
    job = queue.claim(sessions, job_id, stale_after(settings))
    if job is None:
        return False
    with logs.bound(job_id=job.id, tenant_id=job.tenant_id, job_kind=job.kind):
        started = time.monotonic()
        status, result, error = _execute(JobContext(job, settings, sessions))
        queue.finish(sessions, job.id, status, result, error)
        log.info(
            "job finished",
            extra={"status": str(status), "duration_ms": int((time.monotonic() - started) * 1000)},
        )
    return True


def _execute(context: JobContext) -> tuple[JobStatus, dict | None, str | None]:
    handler = _handlers().get(context.job.kind)
    if handler is None:
        return JobStatus.FAILED, None, f"no handler for job kind {context.job.kind!r}"
    try:
        return JobStatus.SUCCEEDED, handler(context), None
    except ServiceError as exc:
        return JobStatus.FAILED, None, f"{exc.field}: {exc.reason}"
    except Exception:
        log.exception("job failed")
        return JobStatus.FAILED, None, "internal error; the job was not completed"


def run_pending(
    settings: Settings, sessions: sessionmaker[Session], limit: int | None = None
) -> int:
    """Run claimable jobs (queued or abandoned) until none is left or ``limit`` ran."""
    ran = 0
    while limit is None or ran < limit:
        ids = queue.claimable_ids(sessions, stale_after(settings), limit=10)
        progressed = False
        for job_id in ids:
            if run_job(settings, sessions, job_id):
                ran, progressed = ran + 1, True
                break
        if not progressed:
            return ran
    return ran


class ThreadRunner:
    """A per-process pool that runs submitted jobs, then any other job waiting for a worker."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        if settings.jobs_runner not in RUNNER_MODES:
            raise SettingsError(f"SHOPLAKE_JOBS_RUNNER: choose one of {', '.join(RUNNER_MODES)}")
        self.settings = settings
        self.sessions = sessions
        self.pid = os.getpid()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.settings.jobs_runner == "thread"

    def submit(self, job_id: str) -> None:
        """Start a committed job in the background (no-op when dedicated workers run jobs)."""
        if not self.enabled:
            return
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=max(1, self.settings.jobs_threads),
                    thread_name_prefix="shoplake-job",
                )
            self._pool.submit(self._work, job_id)

    def _work(self, job_id: str) -> None:
        try:
            run_job(self.settings, self.sessions, job_id)
            run_pending(self.settings, self.sessions)
        except Exception:  # a thread has no caller to report to: log, the job stays claimable
            log.exception("background job runner failed", extra={"job_id": job_id})

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting jobs; with ``wait``, let running ones finish."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait)
