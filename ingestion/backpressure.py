"""Bound the ingest work in flight across every worker process of one machine.

Each ingest holds one of N slot files under an exclusive ``flock`` while it runs; the kernel
drops the lock if the process dies, so a crashed worker never leaks a slot. When every slot is
held the caller is told to come back later, with the queue length and an expected delay
estimated from recent ingest durations.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Busy(Exception):
    """All slots are taken."""

    in_flight: int
    retry_after_s: int


class IngestSlots:
    """A fixed number of cross-process slots, with a moving estimate of how long work takes."""

    def __init__(self, directory: Path, slots: int) -> None:
        self.directory = directory
        self.slots = slots
        self._recent_s = 1.0
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def acquire(self) -> Iterator[int]:
        """Hold a free slot for the block, or raise :class:`Busy` at once."""
        for index in range(self.slots):
            fd = os.open(self.directory / f"slot-{index}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            started = time.monotonic()
            try:
                yield index
            finally:
                self._remember(time.monotonic() - started)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        raise Busy(in_flight=self.slots, retry_after_s=max(1, round(self._recent_s)))

    def _remember(self, seconds: float) -> None:
        # Exponential moving average: recent requests predict the wait better than old ones.
        self._recent_s = 0.8 * self._recent_s + 0.2 * seconds
