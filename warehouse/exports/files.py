"""Where export files live, and the few file operations that make them durable and atomic.

```
<var_dir>/exports/<tenant_id>/<job_id><ext>      a finished export (moved into place by rename)
<var_dir>/exports/<tenant_id>/.work-<job_id>/    an export being written (chunks, checkpoints)
<var_dir>/exports/<tenant_id>/.<job_id>.lock     held while a worker runs the job
```

Each tenant has its own folder; paths are built only from the integer tenant id and the job id
(checked to be a hex job id), never from request text.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warehouse.controldb.models import Job
from warehouse.exports.spec import ExportSpec

JOB_ID = re.compile(r"^[0-9a-f]{32}$")
WORK_PREFIX = ".work-"
LOCK_SUFFIX = ".lock"
HASH_BLOCK = 1024 * 1024


def exports_root(var_dir: Path) -> Path:
    """Return the folder holding every tenant's exports."""
    return Path(var_dir).resolve() / "exports"


def check_job_id(job_id: str) -> str:
    """Return ``job_id`` if it has the job-id shape (so it is safe inside a path)."""
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    return job_id


@dataclass(frozen=True)
class ExportFiles:
    """The paths of one export job."""

    var_dir: Path
    tenant_id: int
    job_id: str
    extension: str

    @property
    def folder(self) -> Path:
        if isinstance(self.tenant_id, bool) or not isinstance(self.tenant_id, int):
            raise TypeError(f"tenant_id must be an int, not {self.tenant_id!r}")
        return exports_root(self.var_dir) / str(self.tenant_id)

    @property
    def final(self) -> Path:
        return self.folder / f"{check_job_id(self.job_id)}{self.extension}"

    @property
    def work(self) -> Path:
        return self.folder / f"{WORK_PREFIX}{check_job_id(self.job_id)}"

    @property
    def lock(self) -> Path:
        return self.folder / f".{check_job_id(self.job_id)}{LOCK_SUFFIX}"

    def publish(self, built: Path) -> None:
        """Move the finished file into place atomically and durably."""
        fsync_file(built)
        os.replace(built, self.final)
        fsync_dir(self.folder)

    def remove(self) -> None:
        """Delete everything of this export (finished file, work folder, lock)."""
        shutil.rmtree(self.work, ignore_errors=True)
        self.final.unlink(missing_ok=True)
        self.lock.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (waits): one worker per export at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename inside it survives a crash."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sha256_of(path: Path) -> tuple[int, str]:
    """Return the size and SHA-256 hex digest of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def files_of(var_dir: Path, job: Job) -> ExportFiles:
    """Return the paths of an export job."""
    spec = ExportSpec.from_params(job.params)
    return ExportFiles(var_dir, job.tenant_id, job.id, spec.extension)
