"""When new raw data should start a build: the sensor's decision as a pure function.

Debounced twice: no request while a build is queued or running (it will pick the data up, or
the next evaluation will), and at most one request per ``min_interval`` so a burst of small
batches becomes one build rather than many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Decision:
    """Build now or not, and why."""

    build: bool
    reason: str


def decide(
    raw: datetime | None,
    published: datetime | None,
    last_request: datetime | None,
    now: datetime,
    min_interval: timedelta,
    build_active: bool,
) -> Decision:
    """Decide whether raw data newer than the published watermark warrants a build now."""
    if raw is None:
        return Decision(False, "the raw zone is empty")
    if published is not None and raw <= published:
        return Decision(False, f"no raw data newer than the published watermark {published}")
    if build_active:
        return Decision(False, "a build is already queued or running")
    if last_request is not None and now - last_request < min_interval:
        wait = min_interval - (now - last_request)
        return Decision(False, f"debounced: next build possible in {int(wait.total_seconds())}s")
    return Decision(True, f"raw data up to {raw} is newer than the snapshot ({published})")


def read_cursor(cursor: str | None) -> datetime | None:
    """Return the time of the last requested build stored in a sensor cursor."""
    if not cursor:
        return None
    return datetime.fromisoformat(json.loads(cursor)["requested_at"])


def write_cursor(requested_at: datetime) -> str:
    """Return a sensor cursor recording a build request at ``requested_at``."""
    return json.dumps({"requested_at": requested_at.isoformat()})
