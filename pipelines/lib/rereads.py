"""Which raw rows an incremental build must read again, from the batch ledger instead of a clock.

A batch's ``_ingested_at`` is stamped when it is claimed in the ledger, before its files become
visible; a build can therefore see a batch stamped later while an earlier-stamped one is still
landing, and the facts' watermarks (newest ``_ingested_at`` they hold) then run ahead of it.
Such a batch is *pending* in the ledger at the moment the build looks. So each build lists the
batches pending when it starts (after taking the raw watermark) and records the oldest stamp;
the next build re-reads from there, or from each fact's own watermark when nothing was pending.
Without a completed previous build the dbt project falls back to its time lookback
(``incremental_lookback_minutes``), which re-reads everything landed in that window.

The same stamp tells the API where the published snapshot may be missing rows
(:func:`tail_start`): its readers add raw rows landed after it instead of after a fixed look-back.

A batch still pending after :data:`ABANDONED_AFTER` is taken for a crashed writer and ignored,
as the time lookback ignores it too; its retry would land rows no incremental build re-reads, so
recovering from such a crash takes a full refresh.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from pipelines.lib.buildstate import BUILT, BuildState
from warehouse.lake.layout import LEDGER
from warehouse.lake.ledger import LedgerEntry

ABANDONED_AFTER = timedelta(hours=1)
# A batch takes its stamp a moment before its ledger claim is visible (the claim is written and
# fsynced first), so a build can miss one stamped just before the watermark without seeing it
# pending; readers start this much earlier. Seconds in practice; a minute leaves room.
CLAIM_GRACE = timedelta(minutes=1)
# SHOPLAKE_REREAD_FROM when nothing needs re-reading before each fact's own watermark.
NOTHING_PENDING = "none"
_decoder = msgspec.json.Decoder(LedgerEntry)


def oldest_pending(lake_root: Path, watermark: datetime | None, now: datetime) -> datetime | None:
    """Return the oldest stamp of a batch pending now and stamped at or before ``watermark``."""
    if watermark is None:
        return None
    since = now - ABANDONED_AFTER
    stamps = [
        entry.ingested_at.astimezone(UTC)
        for entry in _recent_entries(Path(lake_root) / LEDGER, since.timestamp())
        if entry.state == "pending" and since <= entry.ingested_at <= watermark
    ]
    return min(stamps, default=None)


def _recent_entries(ledger_root: Path, since: float) -> Iterator[LedgerEntry]:
    # A claim or commit writes its entry into a shard folder, which touches the folder: only
    # folders and entries changed since ``since`` can hold a batch pending since then.
    for tenant in _scan(ledger_root):
        for shard in _scan(Path(tenant.path)):
            if shard.stat().st_mtime < since:
                continue
            for entry in _scan(Path(shard.path), files=True):
                if entry.name.endswith(".json") and entry.stat().st_mtime >= since:
                    yield from _decoded(Path(entry.path))


def _scan(folder: Path, files: bool = False) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if (e.is_file() if files else e.is_dir())]
    except FileNotFoundError:
        return []


def _decoded(path: Path) -> Iterator[LedgerEntry]:
    try:
        yield _decoder.decode(path.read_bytes())
    except (FileNotFoundError, msgspec.DecodeError):
        return  # replaced or half-visible meanwhile: a committed entry replaces a pending one


def reread_from(previous: BuildState | None) -> str:
    """Return SHOPLAKE_REREAD_FROM for the build after ``previous`` ("" = use the lookback)."""
    if previous is None or previous.status != BUILT:
        return ""
    if previous.pending_since is None:
        return NOTHING_PENDING
    return previous.pending_since.isoformat()


def tail_start(state: BuildState) -> datetime | None:
    """Return after when raw rows may be missing from the marts of build ``state``.

    The watermark, or the oldest batch still pending when the build started if older, less
    :data:`CLAIM_GRACE`; None when the build read no raw data (readers then take every raw row).
    """
    if state.watermark is None:
        return None
    start = min(state.watermark, state.pending_since or state.watermark)
    return start - CLAIM_GRACE
