"""Which builds were CURRENT when, and deleting old snapshots once no reader can hold them.

A snapshot is kept while it is one of the newest ``keep`` builds, while it is CURRENT, and for a
grace period after it stopped being CURRENT: a reader that resolved CURRENT just before a switch
may still be reading it. Folders that never became CURRENT (a publish that died between renaming
its folder and switching) are not readable by anyone and go at once.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warehouse.publish.layout import (
    BUILD_ID,
    CURRENT,
    HISTORY,
    STAGING_PREFIX,
    answers_dir,
    marts_root,
    snapshots_dir,
    write_atomic,
)
from warehouse.publish.reader import current_build_id


@dataclass(frozen=True)
class Switch:
    """One build becoming CURRENT at a moment."""

    build_id: str
    current_since: datetime


def read_history(var_dir: Path) -> list[Switch]:
    """Return the switches recorded so far, oldest first."""
    try:
        raw = json.loads((marts_root(var_dir) / HISTORY).read_text())
    except FileNotFoundError:
        return []
    return [Switch(e["build_id"], datetime.fromisoformat(e["current_since"])) for e in raw]


def _write_history(var_dir: Path, history: list[Switch]) -> None:
    entries = [
        {"build_id": s.build_id, "current_since": s.current_since.isoformat()} for s in history
    ]
    write_atomic(marts_root(var_dir) / HISTORY, json.dumps(entries, indent=1).encode())


def switch_current(var_dir: Path, build_id: str, now: datetime | None = None) -> None:
    """Make ``build_id`` CURRENT: record the switch first, then rename the pointer into place."""
    # History first: if we die between the two writes, the old snapshot merely looks retired a
    # little early; the other order could leave CURRENT naming a build retention never saw.
    moment = now or datetime.now(UTC)
    history = [s for s in read_history(var_dir) if s.build_id != build_id]
    _write_history(var_dir, [*history, Switch(build_id, moment)])
    write_atomic(marts_root(var_dir) / CURRENT, f"{build_id}\n".encode())


def clear_staging(var_dir: Path) -> list[str]:
    """Remove half-written snapshots left by a publish that died (call under the build lock)."""
    root = snapshots_dir(var_dir)
    removed = []
    for path in sorted(root.glob(f"{STAGING_PREFIX}*")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


def prune(var_dir: Path, keep: int, grace_seconds: float, now: datetime | None = None) -> list[str]:
    """Delete snapshots outside the newest ``keep`` once retired for ``grace_seconds``."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    moment = now or datetime.now(UTC)
    current = current_build_id(var_dir)
    history = read_history(var_dir)
    retired = {s.build_id: nxt.current_since for s, nxt in zip(history, history[1:], strict=False)}
    on_disk = sorted(p.name for p in snapshots_dir(var_dir).iterdir() if BUILD_ID.match(p.name))
    protected = set(on_disk[-keep:]) | {current}
    grace = timedelta(seconds=grace_seconds)
    # A folder with no retirement time was never CURRENT (or CURRENT moved past a switch that
    # never completed), so no reader can hold it.
    doomed = [
        b
        for b in on_disk
        if b not in protected and (b not in retired or retired[b] + grace <= moment)
    ]
    for build_id in doomed:
        shutil.rmtree(snapshots_dir(var_dir) / build_id)
    _write_history(var_dir, [s for s in history if s.build_id not in doomed])
    _prune_answers(var_dir, kept=set(on_disk) - set(doomed))
    return doomed


def _prune_answers(var_dir: Path, kept: set[str]) -> None:
    # Answers of a deleted snapshot can never be asked for again. A reader that pinned the
    # snapshot just before it went may still store one late; the next prune removes it.
    root = answers_dir(var_dir)
    if root.is_dir():
        for folder in root.iterdir():
            if folder.name not in kept:
                shutil.rmtree(folder, ignore_errors=True)
