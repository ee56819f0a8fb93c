"""Cut an NDJSON stream into chunks of whole lines, each kept as one blob.

The records of a chunk are never split into one Python object each: the contract parses a blob
in one pass, so cutting lines out of the stream with C-level searches saves a split, a join and
the per-record objects (time and memory) on the hottest path of bulk ingest.

The chunks are exactly those of ``chunked(ndjson_records(blocks), max_rows, max_bytes)``: blank
lines are dropped, a chunk closes once it holds ``max_rows`` records or their bytes (newlines not
counted) reach ``max_bytes``, and its blob is its records joined by newlines. Batch ids and
content digests derive from the chunks, so the boundaries must not depend on how they are found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ingestion.body import MAX_RECORD_BYTES, BodyError, Chunk

_BLANK_INSIDE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")  # a whitespace-only line between two others


class Run(NamedTuple):
    """Whole non-blank lines ``data[start:end]`` (no newline at either end), ``rows`` of them."""

    data: bytes
    start: int
    end: int
    rows: int

    @property
    def size(self) -> int:
        """Record bytes, newlines not counted."""
        return self.end - self.start - (self.rows - 1)

    def view(self, end: int | None = None) -> memoryview:
        return memoryview(self.data)[self.start : self.end if end is None else end]


def ndjson_chunks(blocks: Iterable[bytes], max_rows: int, max_bytes: int) -> Iterator[Chunk]:
    """Yield the NDJSON body's chunks; each ``Chunk.records`` is one blob of whole lines."""
    cutter = _Cutter(max_rows, max_bytes)
    for run in complete_lines(blocks):
        yield from cutter.feed(run)
    yield from cutter.finish()


def complete_lines(blocks: Iterable[bytes]) -> Iterator[Run]:
    """Yield the body's whole non-blank lines in runs, mostly views into the blocks as read."""
    pending = b""  # the start of a line that continues in the next block
    for block in blocks:
        first = block.find(b"\n")
        if first < 0:
            pending += block
        else:
            if run := _lines(pending + block[:first], 0, len(pending) + first):
                yield run
            last = block.rfind(b"\n")
            if first < last and (run := _lines(block, first + 1, last)):
                yield run
            pending = block[last + 1 :]
        if len(pending) > MAX_RECORD_BYTES:
            raise BodyError(413, "body", f"a record exceeds {MAX_RECORD_BYTES} bytes")
    if run := _lines(pending, 0, len(pending)):
        yield run


def _lines(data: bytes, start: int, end: int) -> Run | None:
    """Return ``data[start:end]`` as a run of lines, blank ones dropped (None if none is left)."""
    if _has_blank_line(data, start, end):
        data = without_blank_lines(data[start:end])
        start, end = 0, len(data)
    if start == end:
        return None
    return Run(data, start, end, data.count(b"\n", start, end) + 1)


def _has_blank_line(data: bytes, start: int, end: int) -> bool:
    first, last = data.find(b"\n", start, end), data.rfind(b"\n", start, end)
    return (
        _BLANK_INSIDE.search(data, start, end) is not None
        or not data[start : first if first >= 0 else end].strip()
        or not data[last + 1 if last >= 0 else start : end].strip()
    )


def without_blank_lines(data: bytes) -> bytes:
    """Drop blank (whitespace-only) lines."""
    return b"\n".join(line for line in data.split(b"\n") if line.strip())


class _Cutter:
    """Gather runs of lines and cut them at the chunk bounds."""

    def __init__(self, max_rows: int, max_bytes: int) -> None:
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self.runs: list[Run] = []
        self.rows = self.size = 0  # held by self.runs
        self.index, self.first_row = 0, 1

    def feed(self, run: Run) -> Iterator[Chunk]:
        self.runs.append(run)
        self.rows += run.rows
        self.size += run.size
        while self.rows >= self.max_rows or self.size >= self.max_bytes:
            yield self._cut()

    def finish(self) -> Iterator[Chunk]:
        if self.runs:
            yield self._emit(b"\n".join(run.view() for run in self.runs), self.rows)

    def _cut(self) -> Chunk:
        # Below both bounds before the last run came, so the chunk ends inside that run.
        *head, last = self.runs
        rows, end = _chunk_end(
            last, self.max_rows - (self.rows - last.rows), self.max_bytes - (self.size - last.size)
        )
        blob = b"\n".join([*(run.view() for run in head), last.view(end)])
        self.runs = [] if end == last.end else [Run(last.data, end + 1, last.end, last.rows - rows)]
        rows += self.rows - last.rows
        self.rows, self.size = sum(r.rows for r in self.runs), sum(r.size for r in self.runs)
        return self._emit(blob, rows)

    def _emit(self, blob: bytes, rows: int) -> Chunk:
        chunk = Chunk(self.index, self.first_row, blob, rows)
        self.index += 1
        self.first_row += rows
        return chunk


def _chunk_end(run: Run, max_rows: int, max_bytes: int) -> tuple[int, int]:
    """Return (records, end offset in ``run.data``) of a chunk's share of ``run``."""
    # The first k records hold end_k - start - (k - 1) bytes, end_k being the offset of the
    # newline after record k (or the run's end), so the byte bound closes the chunk at the
    # first k with end_k >= start + max_bytes + k - 1. `least` never passes that k, so the first
    # newline at or after start + max_bytes + least - 1 is either its end or raises `least`.
    data, start, stop = run.data, run.start, run.end
    newlines, counted_to, least = 0, start, 1
    while least <= max_rows:
        end = data.find(b"\n", start + max_bytes + least - 1, stop)
        end = stop if end < 0 else end
        newlines += data.count(b"\n", counted_to, end)
        counted_to = end
        rows = newlines + 1
        if end - start - rows + 1 >= max_bytes:
            return (rows, end) if rows <= max_rows else (max_rows, _nth_newline(run, max_rows))
        if end == stop:
            break
        least = rows + 1
    return max_rows, _nth_newline(run, max_rows)


def _nth_newline(run: Run, n: int) -> int:
    """Return the offset of the run's ``n``-th newline (or its end if it has fewer)."""
    end = run.start - 1
    for _ in range(n):
        end = run.data.find(b"\n", end + 1, run.end)
        if end < 0:
            return run.end
    return end
