"""One warehouse build at a time: an advisory file lock beside the build database.

Dagster queues its own build runs (dagster.yaml), but `shoplake build` runs in-process and a
second Dagster deployment could share the directory, so every build run holds this lock from
its first step to its last. The kernel drops an flock when its holder dies, so a crashed build
never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = "build.lock"
POLL_SECONDS = 0.5


class BuildBusy(RuntimeError):
    """Another build held the lock for longer than we were willing to wait."""


def lock_path(warehouse_dir: Path) -> Path:
    """Return the lock file of the builds that write ``warehouse_dir``."""
    return Path(warehouse_dir) / LOCK_FILE


def holder(warehouse_dir: Path) -> dict:
    """Return what the current (or last) holder wrote into the lock file, if anything."""
    try:
        return json.loads(lock_path(warehouse_dir).read_text() or "{}")
    except (FileNotFoundError, ValueError):
        return {}


@contextmanager
def build_lock(warehouse_dir: Path, wait_seconds: float, owner: str = "") -> Iterator[None]:
    """Hold the build lock for a block, waiting up to ``wait_seconds`` for it."""
    path = lock_path(warehouse_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(descriptor, wait_seconds, path)
        _describe(descriptor, owner)
        yield
    finally:
        os.close(descriptor)  # closing drops the lock


def _acquire(descriptor: int, wait_seconds: float, path: Path) -> None:
    deadline = time.monotonic() + max(wait_seconds, 0)
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BuildBusy(
                    f"another warehouse build holds {path} ({holder(path.parent)}); "
                    f"waited {wait_seconds:g}s"
                ) from None
            time.sleep(POLL_SECONDS)


def _describe(descriptor: int, owner: str) -> None:
    # Diagnostics only: who holds the lock, shown when another build gives up waiting.
    info = {"pid": os.getpid(), "owner": owner, "since": datetime.now(UTC).isoformat()}
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(info).encode(), 0)
