"""Turn a streamed request body into bounded chunks of raw JSON records.

Accepted: NDJSON, a JSON array, ``{"records": [...]}``, each optionally gzip-compressed. The body
is read in blocks and never held whole; decompressed size is capped (gzip bombs), nesting depth is
capped (JSON bombs), and each record stays raw bytes so the contract decoder parses it once.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgspec

from warehouse.errors import ServiceError

BLOCK_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_RECORD_BYTES = 1 << 20
FAST_PATH_BYTES = 32 << 20


class BodyError(ServiceError):
    """The body cannot be read as records; ``status`` is the HTTP answer (400 or 413)."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(field, reason, status)


@dataclass(frozen=True)
class Chunk:
    """Up to ``max_rows`` raw records; ``first_row`` is the 1-based row number of the first.

    ``records`` is a list of raw records, or one NDJSON blob of ``rows`` records joined by
    newlines (see :mod:`ingestion.ndjson`).
    """

    index: int
    first_row: int
    records: list[bytes] | bytes
    rows: int


def gunzip(blocks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """Decompress gzip blocks, refusing output past ``max_bytes`` and truncated streams."""
    inflater = zlib.decompressobj(wbits=31)
    member_open = False  # the current gzip member has started but not ended
    produced = 0
    for block in blocks:
        data = block
        while data:
            member_open = True
            try:
                out = inflater.decompress(data, BLOCK_BYTES)
            except zlib.error as exc:
                raise BodyError(400, "body", f"invalid gzip data: {exc}") from None
            produced += len(out)
            if produced > max_bytes:
                raise BodyError(413, "body", f"decompressed body exceeds {max_bytes} bytes")
            if out:
                yield out
            data = inflater.unconsumed_tail
            if inflater.eof:
                # Concatenated gzip members are legal: continue with a fresh decompressor.
                data, member_open = inflater.unused_data + data, False
                inflater = zlib.decompressobj(wbits=31)
    if member_open:
        raise BodyError(400, "body", "gzip stream is truncated")


def ndjson_records(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Split NDJSON into records (blank lines skipped; a final line needs no newline)."""
    pending = b""
    for block in blocks:
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        if len(pending) > MAX_RECORD_BYTES:
            raise BodyError(413, "body", f"a record exceeds {MAX_RECORD_BYTES} bytes")
        for line in lines:
            if line.strip():
                yield line
    if pending.strip():
        yield pending


# A string (complete, or cut off at the end of the buffer) or one structural character;
# everything between tokens (numbers, literals, whitespace) is skipped by the regex engine.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[\[\]{},]', re.DOTALL)


def json_array_records(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a JSON array, or an object whose ``records`` member is one, into its elements.

    A body that fits in :data:`FAST_PATH_BYTES` is split by msgspec in C; a larger one is scanned
    incrementally, so memory stays bounded either way.
    """
    stream = iter(blocks)
    head: list[bytes] = []
    size = 0
    for block in stream:
        head.append(block)
        size += len(block)
        if size > FAST_PATH_BYTES:
            break
    else:
        records = _split_whole(b"".join(head))
        if records is not None:
            yield from records
            return
    # Too large, or not valid JSON as a whole: scan it, keeping bad elements as row errors.
    splitter = _ArraySplitter()
    for block in itertools.chain(head, stream):
        yield from splitter.feed(block)
    yield from splitter.finish()


def _split_whole(document: bytes) -> list[bytes] | None:
    """Split a complete, valid document in C; None when the scanner must decide."""
    try:
        top = msgspec.json.decode(document, type=list[msgspec.Raw] | dict[str, msgspec.Raw])
        if isinstance(top, dict):
            if "records" not in top:
                return None
            top = msgspec.json.decode(top["records"], type=list[msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    return [bytes(raw) for raw in top]


class _ArraySplitter:
    """Incremental scanner that cuts the records array's elements out of a byte stream."""

    def __init__(self) -> None:
        self.buffer = b""
        self.pos = 0
        self.depth = 0
        self.array_depth: int | None = None
        self.element_start: int | None = None
        self.last_string: bytes = b""
        self.done = False

    def feed(self, block: bytes) -> Iterator[bytes]:
        self.buffer += block
        yield from self._scan(final=False)
        self._compact()

    def finish(self) -> Iterator[bytes]:
        yield from self._scan(final=True)
        if not self.done:
            raise BodyError(
                400, "body", "expected a JSON array or an object with a 'records' array"
            )
        if self.depth != 0:
            raise BodyError(400, "body", "the JSON document is truncated")

    def _scan(self, final: bool) -> Iterator[bytes]:
        for match in _TOKEN.finditer(self.buffer, self.pos):
            token = match.group()
            if token[:1] == b'"' and (
                len(token) < 2
                or token[-1:] != b'"'
                or token[-2:] == b'\\"'
                and _unterminated(token)
            ):
                if final:
                    raise BodyError(400, "body", "the JSON document ends inside a string")
                self.pos = match.start()
                return
            self.pos = match.end()
            yield from self._token(token, match.start(), match.end())
        self.pos = len(self.buffer)

    def _token(self, token: bytes, start: int, end: int) -> Iterator[bytes]:
        if token in (b"[", b"{"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise BodyError(400, "body", f"JSON nesting deeper than {MAX_DEPTH}")
            if token == b"[" and self.array_depth is None and self._opens_records():
                self.array_depth, self.element_start = self.depth, end
        elif token in (b"]", b"}"):
            if self.depth == self.array_depth and not self.done:
                yield from self._cut(start, next_start=None)
                self.done = True
            self.depth -= 1
            if self.depth < 0:
                raise BodyError(400, "body", "unbalanced brackets")
        elif token == b",":
            if self.depth == self.array_depth and not self.done:
                yield from self._cut(start, next_start=end)
        elif self.depth == 1:
            self.last_string = token
        if self.element_start is not None and self.pos - self.element_start > MAX_RECORD_BYTES:
            raise BodyError(413, "body", f"a record exceeds {MAX_RECORD_BYTES} bytes")

    def _opens_records(self) -> bool:
        # The document is the array, or the array is the top-level object's "records" member.
        return self.depth == 1 or (self.depth == 2 and self.last_string == b'"records"')

    def _cut(self, end: int, next_start: int | None) -> Iterator[bytes]:
        assert self.element_start is not None
        element = self.buffer[self.element_start : end].strip()
        self.element_start = next_start
        if element:
            yield element

    def _compact(self) -> None:
        # Drop consumed bytes so memory stays bounded by one record plus one block.
        keep_from = self.pos if self.element_start is None else min(self.pos, self.element_start)
        if keep_from > BLOCK_BYTES:
            self.buffer = self.buffer[keep_from:]
            self.pos -= keep_from
            if self.element_start is not None:
                self.element_start -= keep_from


def _unterminated(token: bytes) -> bool:
    # A token ending in backslash-quote is complete only if the backslashes before it pair up.
    body = token[1:-1]
    trailing = len(body) - len(body.rstrip(b"\\"))
    return trailing % 2 == 1


def chunked(records: Iterable[bytes], max_rows: int, max_bytes: int) -> Iterator[Chunk]:
    """Group records into chunks bounded by row count and bytes."""
    batch: list[bytes] = []
    size = 0
    index = 0
    first_row = 1
    for record in records:
        batch.append(record)
        size += len(record)
        if len(batch) >= max_rows or size >= max_bytes:
            yield Chunk(index, first_row, batch, len(batch))
            index += 1
            first_row += len(batch)
            batch, size = [], 0
    if batch:
        yield Chunk(index, first_row, batch, len(batch))
