"""A per-lake advisory lock so that only one maintenance job (compaction) runs at a time."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LakeBusy(RuntimeError):
    """Another process holds the lock; try again later."""


@contextmanager
def exclusive(root: Path, name: str) -> Iterator[None]:
    """Hold ``<root>/_locks/<name>.lock`` for the block, or raise :class:`LakeBusy` at once."""
    folder = Path(root) / "_locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LakeBusy(f"{name} is already running on {root}") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
