"""How far in ``created_at`` one search chunk must read, judged from Parquet row-group statistics.

A chunk wants the next ``n`` orders past its position. Without a bound, DuckDB reads the whole
base partition before its top-N can answer (2,000,000 orders of one large tenant: ~1 s),
because the base maps ``created_at`` through an expression the scan cannot filter on. The
statistics bound each row group's instants: taking groups by their farthest instant until
they hold ``n`` rows gives an instant, the *reach*, that at least ``n`` base rows lie within.
The chunk reads only up to the reach, a plain filter on the stored column, so the scan skips
every row group beyond it (2 of 123 groups for that tenant's first page: ~50 ms).

The reach only narrows what a chunk reads; it never decides what the answer is. Every order
within the reach (base or raw tail) is still considered, so what the chunk returns is exactly
the true order's next rows. Filters can make a bounded chunk come back short: then every
matching order within the reach has been returned, the next chunk starts *beyond* it, and its
reach is taken further (see :class:`Frontier`). A chunk whose reach would cover every row group
left runs unbounded, so a short answer from it means the end.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

if TYPE_CHECKING:
    from warehouse.entities.sources import Source

# Each short chunk doubles how many rows the next reach must cover (filters that match few
# orders then cost a handful of chunks, not one per row group).
GROWTH = 2


@dataclass(frozen=True)
class RowGroup:
    """One row group's extent in the column: its first and last instant, and its rows."""

    low: datetime
    high: datetime
    rows: int


@dataclass(frozen=True)
class Frontier:
    """Where a chunk may read: past ``beyond`` (exclusive) and up to ``reach`` (inclusive).

    Both are instants in the sort's direction: ascending, a chunk reads ``beyond < t <= reach``;
    descending, ``reach <= t < beyond``. None leaves that side open.
    """

    reach: datetime | None = None
    beyond: datetime | None = None


def row_groups(files: Iterable[str], column: str) -> list[RowGroup] | None:
    """Return every row group of ``files`` in ``column``, or None if any lacks statistics."""
    groups: list[RowGroup] = []
    for pattern in files:
        for path in sorted(glob.glob(pattern)):  # a snapshot names a folder's files
            info = os.stat(path)
            found = _file_groups(path, info.st_mtime_ns, info.st_size, column)
            if found is None:
                return None
            groups.extend(found)
    return groups


def base_reach(
    source: Source, column: str, wanted: int, descending: bool, start: datetime | None
) -> datetime | None:
    """Return how far in ``column`` a read of ``wanted`` rows from ``start`` on must go.

    Judged from the row groups of ``source``'s base (see :func:`reach_for`); None when the
    base has no usable statistics or the bound would not narrow the read.
    """
    groups = row_groups(source.base_files, source.stored_column(column))
    return reach_for(groups, wanted, descending, start) if groups else None


def reach_for(
    groups: Sequence[RowGroup], wanted: int, descending: bool, start: datetime | None
) -> datetime | None:
    """Return the instant within which at least ``wanted`` rows from ``start`` on lie.

    ``start`` (inclusive; None = the beginning) is where the chunk's rows begin in the sort's
    direction. None means no useful bound: the groups left hold fewer than ``wanted`` rows,
    so the chunk must read them all.
    """

    def ahead(group: RowGroup) -> bool:
        if start is None:
            return True
        return group.low <= start if descending else group.high >= start

    left = [g for g in groups if ahead(g)]
    # Groups by their farthest instant: once the reach passes a group's, all its rows lie
    # within. A group spanning a long time (late orders among early ids) only counts once the
    # reach has passed all of it, so it cannot stretch the reach.
    left.sort(key=lambda g: g.low if descending else g.high, reverse=descending)
    covered = 0
    for group in left:
        covered += group.rows
        if covered >= wanted:
            reach = group.low if descending else group.high
            farthest = left[-1].low if descending else left[-1].high
            return None if reach == farthest else reach  # every group would be read anyway
    return None


@lru_cache(maxsize=256)
def _file_groups(path: str, _mtime_ns: int, _size: int, column: str) -> tuple[RowGroup, ...] | None:
    # Keyed by mtime and size too: snapshot files never change, a compacted state is swapped.
    metadata = pq.ParquetFile(path).metadata
    # Leaf columns, as row groups number them (a nested column has several).
    paths = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    if column not in paths:
        return None
    index = paths.index(column)
    groups = []
    for number in range(metadata.num_row_groups):
        group = metadata.row_group(number)
        if group.num_rows == 0:
            continue
        stats = group.column(index).statistics
        if stats is None or not stats.has_min_max or not stats.has_null_count or stats.null_count:
            return None
        groups.append(RowGroup(_instant(stats.min), _instant(stats.max), group.num_rows))
    return tuple(groups)


def _instant(value: datetime) -> datetime:
    # Marts keep UTC without a zone; the lake's compacted state keeps it with one.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
