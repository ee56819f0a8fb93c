"""Run a search page as a stream of record batches, never holding the page in memory.

A page is read in keyset chunks of at most :data:`CHUNK_ROWS` orders: each chunk is one top-N
query continuing after the last key of the one before, exactly as the next page would. So
DuckDB never sorts or buffers more than a chunk, whatever ``limit`` is, and the guarantees
between pages (see :mod:`warehouse.search`) hold between the chunks of one page too. Each chunk
reads the base only as far as its row-group statistics say it must (:mod:`.window`).

:func:`open_search` runs the first chunk and fetches its first batch before it returns, so a
bad query surfaces before a response starts. A top-N reads every input file before it yields
its first row, so by then a chunk's file access is over: a file moved by compaction (or a
compacted state swapped in) meanwhile shows there, and the chunk is planned again from a fresh
listing, as entity reads do. After the last batch :attr:`SearchStream.next_key` holds the key
the next page starts after (None at the end).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any

import duckdb

from warehouse import duck
from warehouse.entities.sources import Source, Store, resolve
from warehouse.entities.specs import SPECS, family
from warehouse.entities.sql import Query, current_rows
from warehouse.lake import LakeReadError
from warehouse.search.query import KEY_COLUMNS, page_sql, span
from warehouse.search.spec import OrderSearch
from warehouse.search.window import GROWTH, Frontier, base_reach

log = logging.getLogger("shoplake.search")

ATTEMPTS = 5
# Rows turned into Python objects at a time: a 100,000-order page with lines and customers
# peaked 30 MB higher with 2,000 than with 250, at no gain in speed (BENCHMARKS.md).
BATCH_ROWS = 250
# DuckDB plans ORDER BY + LIMIT as a top-N (a heap of `limit` rows) only up to a limit of
# 5,000 (beyond, unless the input is far larger, it sorts every match): chunks stay below.
CHUNK_ROWS = 4_999

Key = tuple[datetime, str]
Chunk = tuple[duckdb.DuckDBPyConnection, list[tuple]]


class SearchStream:
    """One page being read: iterate :meth:`batches` once, then read :attr:`next_key`."""

    def __init__(self, store: Store, search: OrderSearch, limit: int, batch_rows: int) -> None:
        self.store, self.search, self.limit, self.batch_rows = store, search, limit, batch_rows
        self.fields: list[str] = []
        self.next_key: Key | None = None
        self.last_key: Key | None = None  # of the last record yielded
        self.count = 0
        self._chunk: Chunk | None = None
        self._beyond: datetime | None = None  # every match up to here has been returned
        self._reach: datetime | None = None  # how far the chunk being read may read
        self._growth = 1

    def start(self, after: Key | None) -> None:
        """Run the first chunk (continuing after ``after``) and fetch its first batch."""
        self.last_key = after
        self._chunk = self._run(after)
        self.fields = [c[0] for c in self._chunk[0].description][: -len(KEY_COLUMNS)]

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """Yield the page's records (dicts of the projected fields) a batch at a time."""
        try:
            chunk, self._chunk = self._chunk, None
            more = chunk is not None and (yield from self._drain(chunk))
            while more or self._went_beyond_reach():
                if more and self.count >= self.limit:
                    self.next_key = self.last_key
                    break
                # The next chunk: after a full one, or beyond a bounded one that came short
                # (with the page already full, that chunk only probes for one more row).
                more = yield from self._drain(self._run(self.last_key))
        finally:
            self.close()

    def close(self) -> None:
        """Release the DuckDB cursor of an unread chunk (safe to call twice)."""
        if self._chunk is not None:
            self._chunk[0].close()
            self._chunk = None

    def _wanted(self) -> int:
        return min(CHUNK_ROWS, self.limit - self.count)

    def _went_beyond_reach(self) -> bool:
        """After a chunk without its probe row: move past its reach, if it had one.

        A bounded chunk returned every match up to its reach, so the next one starts beyond
        it and reaches twice as far (return True: read on); an unbounded chunk coming back
        short is the end (return False, nothing changes).
        """
        if self._reach is None:
            return False
        self._beyond, self._reach = self._reach, None
        self._growth *= GROWTH
        return True

    def _drain(self, chunk: Chunk) -> Generator[list[dict[str, Any]], None, bool]:
        """Yield one chunk's records; return whether rows remain past it (its probe row)."""
        cursor, batch = chunk
        width, wanted, taken = len(self.fields), self._wanted(), 0
        try:
            while batch:
                rows = batch[: wanted - taken]
                if rows:
                    taken, self.count = taken + len(rows), self.count + len(rows)
                    self.last_key = tuple(rows[-1][width:])  # type: ignore[assignment]
                    yield [dict(zip(self.fields, row[:width], strict=True)) for row in rows]
                if len(batch) > len(rows):
                    return True
                batch = cursor.fetchmany(self.batch_rows)
            return False
        finally:
            cursor.close()

    def _run(self, after: Key | None) -> Chunk:
        """Execute the next chunk and fetch its first batch, planning again if files moved."""
        for attempt in range(ATTEMPTS):
            last = attempt == ATTEMPTS - 1
            sources = _sources(self.store, self.search)
            orders, *others = sources
            frontier = self._frontier(orders["orders"], after)
            query = current_rows(Query(), orders, span=span(self.search, after, frontier))
            for family_sources in others:
                current_rows(query, family_sources)
            sql = query.sql(page_sql(query, self.search, self._wanted(), after, frontier))
            cursor = duck.connection().cursor()
            try:
                first = cursor.execute(sql, query.params).fetchmany(self.batch_rows)
            except (duckdb.IOException, FileNotFoundError):
                cursor.close()
                if last:
                    raise
                log.debug("order files moved during a search; planning again", exc_info=True)
                continue
            except duckdb.Error:
                cursor.close()
                if last or not _swapped(sources):
                    raise
                continue
            if not _swapped(sources):
                self._reach = frontier.reach
                return cursor, first
            cursor.close()
        raise LakeReadError(f"orders/tenant_id={self.store.tenant_id}: files kept changing")

    def _frontier(self, orders: Source, after: Key | None) -> Frontier:
        """Return how far the next chunk reads: enough base row groups for its rows."""
        start = span(self.search, after, Frontier(beyond=self._beyond))
        wanted = (self._wanted() + 1) * self._growth
        descending = self.search.descending
        first = start.high if descending else start.low
        reach = base_reach(orders, "created_at", wanted, descending, first)
        return Frontier(reach, self._beyond)


def open_search(
    store: Store, search: OrderSearch, limit: int, after: Key | None, batch_rows: int = BATCH_ROWS
) -> SearchStream:
    """Start one page of ``search`` for ``store``'s tenant; its first batch is fetched."""
    stream = SearchStream(store, search, limit, batch_rows)
    stream.start(after)
    return stream


def _sources(store: Store, search: OrderSearch) -> list[dict[str, Source]]:
    families = [resolve(store, family(SPECS["orders"]))]
    if search.needs_customers:
        families.append(resolve(store, family(SPECS["customers"])))
    return families


def _swapped(families: list[dict[str, Source]]) -> bool:
    return any(source.base_changed() for sources in families for source in sources.values())
