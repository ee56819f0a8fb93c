"""What the build database holds right now, so publish describes exactly that.

The dbt asset marks the state ``building`` before dbt touches the database and ``built`` (with
the raw watermark it built up to) once dbt succeeded. Publish refuses a database that is not
``built``: after a failed or interrupted dbt run some models may be new and others old.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from warehouse.publish.layout import write_atomic

STATE_FILE = "build_state.json"
BUILDING, BUILT = "building", "built"


class NotBuilt(RuntimeError):
    """The build database is not in a state that may be published."""


@dataclass(frozen=True)
class BuildState:
    """The last dbt run against the build database."""

    status: str
    run_id: str
    full_refresh: bool
    watermark: datetime | None
    at: datetime
    # The oldest raw batch still landing when the build started (pipelines/lib/rereads.py).
    pending_since: datetime | None = None
    # The run that completed the database just before this one (None: that one did not).
    previous_run_id: str | None = None
    # dbt's own id of this run's invocation, once it succeeded (its models' markers carry it).
    dbt_invocation_id: str | None = None

    def as_json(self) -> dict:
        """Return the state as JSON-able data."""
        data = asdict(self)
        for name in ("watermark", "at", "pending_since"):
            data[name] = _instant(getattr(self, name))
        return data


def state_path(warehouse_dir: Path) -> Path:
    """Return the state file of a build database folder."""
    return Path(warehouse_dir) / STATE_FILE


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parsed(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def write_state(
    warehouse_dir: Path,
    status: str,
    run_id: str,
    full_refresh: bool,
    watermark: datetime | None,
    pending_since: datetime | None = None,
    previous_run_id: str | None = None,
    dbt_invocation_id: str | None = None,
) -> BuildState:
    """Record the state of the build database (atomically)."""
    now = datetime.now(UTC)
    state = BuildState(
        status,
        run_id,
        full_refresh,
        watermark,
        now,
        pending_since,
        previous_run_id,
        dbt_invocation_id,
    )
    Path(warehouse_dir).mkdir(parents=True, exist_ok=True)
    write_atomic(state_path(warehouse_dir), json.dumps(state.as_json()).encode())
    return state


def read_state(warehouse_dir: Path) -> BuildState | None:
    """Return the recorded state, or None before the first build."""
    try:
        raw = json.loads(state_path(warehouse_dir).read_text())
    except FileNotFoundError:
        return None
    return BuildState(
        raw["status"],
        raw["run_id"],
        raw["full_refresh"],
        _parsed(raw["watermark"]),
        datetime.fromisoformat(raw["at"]),
        _parsed(raw.get("pending_since")),
        raw.get("previous_run_id"),
        raw.get("dbt_invocation_id"),
    )


def built_state(warehouse_dir: Path) -> BuildState:
    """Return the state if the database may be published, else raise NotBuilt."""
    state = read_state(warehouse_dir)
    if state is None or state.status != BUILT:
        raise NotBuilt(
            "the build database has no completed dbt build "
            f"(state: {state.status if state else 'none'}); run a build first"
        )
    return state
