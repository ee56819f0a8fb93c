"""Row counting, timing per entity, and periodic progress log lines with rows/s."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

log = logging.getLogger("shoplake.generator")


@dataclass
class EntityStats:
    """Rows, invalid rows and time spent (building and writing) for one entity."""

    rows: int = 0
    invalid: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """Return the stats with rows/s, for the summary."""
        rate = self.rows / self.seconds if self.seconds else 0.0
        return {"rows": self.rows, "invalid": dict(sorted(self.invalid.items())),
                "seconds": round(self.seconds, 3), "rows_per_s": round(rate)}  # fmt: skip


class Progress:
    """Accumulate counts and log ``generate progress`` every ``interval`` seconds (None: never)."""

    def __init__(self, interval: float | None):
        self.interval = interval
        self.started = self._last = time.perf_counter()
        self.rows = 0
        self.entities: dict[str, EntityStats] = {}
        self.tenant: str | None = None

    def add(self, entity: str, rows: int, seconds: float, invalid: dict[str, int]) -> None:
        """Count a written batch and log if the interval has passed."""
        stats = self.entities.setdefault(entity, EntityStats())
        stats.rows += rows
        stats.seconds += seconds
        for kind, count in invalid.items():
            stats.invalid[kind] = stats.invalid.get(kind, 0) + count
        self.rows += rows
        now = time.perf_counter()
        if self.interval is not None and now - self._last >= self.interval:
            self._last = now
            self.log("generate progress")

    @property
    def elapsed(self) -> float:
        """Return seconds since the start."""
        return time.perf_counter() - self.started

    def log(self, message: str) -> None:
        """Log the running totals (rows, rows/s, current tenant)."""
        elapsed = self.elapsed
        rate = round(self.rows / elapsed) if elapsed else 0
        extra = {"tenant": self.tenant, "rows": self.rows, "elapsed_s": round(elapsed, 2)}
        log.info(message, extra=extra | {"rows_per_s": rate})
