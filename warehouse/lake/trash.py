"""Where compaction puts replaced files, and how long they stay before they are deleted.

Replaced files are renamed (same filesystem, so instantly and atomically) into
``_trash/<run>/<path relative to the lake root>``, outside every data glob. A reader that opened
one before the move keeps reading it; the folder is deleted by a later run once it is older than
the grace period, which leaves ample time for any such read and for forensics.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warehouse.lake import fsio
from warehouse.lake.layout import trash_root

log = logging.getLogger(__name__)

_RUN = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-f]{8}$")


def new_run(root: Path, now: datetime) -> Path:
    """Return a fresh trash folder for one compaction run (created lazily by :func:`discard`)."""
    return trash_root(root) / f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def discard(root: Path, run: Path, files: list[Path]) -> None:
    """Move files into the run's trash folder and make the removals durable."""
    folders = set()
    for path in files:
        fsio.move(path, run / path.relative_to(root))
        folders.add(path.parent)
    for folder in folders:
        fsio.fsync_dir(folder)


def purge(root: Path, now: datetime, grace: timedelta) -> int:
    """Delete trash folders older than ``grace``; return how many were deleted."""
    base = trash_root(root)
    if not base.is_dir():
        return 0
    purged = 0
    for folder in base.iterdir():
        match = _RUN.match(folder.name)
        if not match:
            continue
        made = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if now - made > grace:
            shutil.rmtree(folder, ignore_errors=True)
            purged += 1
    if purged:
        log.info("trash purged", extra={"folders": purged})
    return purged


def sweep_temporaries(folder: Path, grace: timedelta) -> int:
    """Delete writer temporaries left by a crash (older than ``grace``, so never in progress)."""
    cutoff = time.time() - grace.total_seconds()
    removed = 0
    for entry in os.scandir(folder):
        if fsio.is_temp(entry.name) and entry.stat().st_mtime < cutoff:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed
