"""Decode raw records into a wire-schema Arrow table, reporting rows that are not well-typed.

Fast path: the whole chunk goes through Arrow's multi-threaded C++ JSON reader with the
contract's explicit schema (strict types, unknown fields refused), straight into columns; an
NDJSON blob without blank lines is read as it is, never split into lines. It reads every row or
fails as a whole; on failure every line is decoded with a msgspec Struct to
find the bad rows and say why, and the good lines are read column-wise again. Contracts with
free-form JSON (event properties, variant attributes) always decode per line and build columns
from the Structs. Both paths give the same table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import msgspec
import pyarrow as pa
import pyarrow.json as pajson

from warehouse.contracts.convert import table_from_structs
from warehouse.contracts.errors import WHOLE_ROW, RowError, from_msgspec
from warehouse.contracts.fields import Field

MIN_READ_BLOCK = 4 << 20
_BLANK_INSIDE = re.compile(rb"\n[ \t\r\x0b\x0c]*\n")  # a whitespace-only line between two others


class NdjsonLines(NamedTuple):
    """NDJSON of exactly ``count`` lines, none of them blank (as an ingest reader cuts a body).

    Decoding it skips the scan for blank lines and the line count that plain bytes need.
    """

    blob: bytes
    count: int


Rows = NdjsonLines | bytes | bytearray | memoryview | Iterable[Any]


class WireContract(Protocol):
    """What decoding needs from a contract."""

    fields: tuple[Field, ...]

    @property
    def wire_schema(self) -> pa.Schema: ...

    @property
    def decoder(self) -> msgspec.json.Decoder: ...

    @property
    def columnar(self) -> bool: ...


@dataclass
class Decoded:
    """Well-typed records as a wire table, the request row number of each, and the rest."""

    table: pa.Table
    rows: list[int]
    errors: list[RowError] = field(default_factory=list)
    received: int = 0


def decode(contract: WireContract, rows: Rows, first_row: int) -> Decoded:
    """Decode NDJSON bytes or a sequence of records; rows are numbered from ``first_row``."""
    lines = None
    if isinstance(rows, NdjsonLines):
        rows, lines = rows
    if contract.columnar and isinstance(rows, bytes):
        table = _whole_blob(contract, rows, lines)
        if table is not None:
            numbers = list(range(first_row, first_row + table.num_rows))
            return Decoded(table, numbers, [], table.num_rows)
    numbers, records, errors, blob = _records(rows, first_row)
    received = len(numbers) + len(errors)
    table = _columnar(contract, records, blob) if contract.columnar and records else None
    if table is not None:
        return Decoded(table, numbers, errors, received)
    structs, kept, good = _per_line(contract, records, numbers, errors)
    # Arrow builds columns far faster than Python can, so re-read the good lines with it; if it
    # still refuses them (it is stricter about e.g. duplicate keys), convert the Structs instead.
    if contract.columnar and 0 < len(good) < len(records):
        table = _columnar(contract, good)
    if table is None:
        table = table_from_structs(structs, contract.fields, contract.wire_schema)
    return Decoded(table, kept, errors, received)


def _whole_blob(contract: WireContract, blob: bytes, lines: int | None) -> pa.Table | None:
    """Read NDJSON of well-typed, non-blank lines straight into columns; else None.

    The common case of bulk ingest: no split into lines at all. Blank lines would shift row
    numbers, so a blob holding any goes the line-by-line way. ``lines`` is the count of lines
    when the caller knows it and that none is blank.
    """
    if lines is None:
        lines = blob.count(b"\n") + (not blob.endswith(b"\n"))
        if _has_blank_line(blob):
            return None
    if not lines or not _valid_utf8(blob):
        return None
    table = _read_json(contract, blob, MIN_READ_BLOCK)
    # No blank lines, so equal counts mean that every line became exactly one row.
    return table if table is not None and table.num_rows == lines else None


def _has_blank_line(blob: bytes) -> bool:
    end = len(blob) - blob.endswith(b"\n")
    first, last = blob.find(b"\n", 0, end), blob.rfind(b"\n", 0, end)
    return (
        _BLANK_INSIDE.search(blob, 0, end) is not None
        or not blob[: first if first >= 0 else end].strip()
        or not blob[last + 1 : end].strip()
    )


def _records(rows: Rows, first_row: int):
    """Normalise the input to (row numbers, raw records, errors, NDJSON blob if reusable as is).

    Blank NDJSON lines are not rows; in a sequence every element is a row.
    """
    if isinstance(rows, bytes | bytearray | memoryview):
        blob = bytes(rows)
        lines = blob.split(b"\n")
        numbered = [
            (first_row + i, line) for i, line in enumerate(lines) if line and not line.isspace()
        ]
        numbers, records = [n for n, _ in numbered], [line for _, line in numbered]
        reusable = len(records) == len(lines) - (lines[-1] == b"")
        return numbers, records, [], blob if reusable else None
    if not isinstance(rows, Sequence):
        rows = list(rows)
    if set(map(type, rows)) <= {bytes} and all(rows) and not any(map(bytes.isspace, rows)):
        return list(range(first_row, first_row + len(rows))), list(rows), [], None
    numbers: list[int] = []
    records: list[bytes] = []
    errors: list[RowError] = []
    for offset, item in enumerate(rows):
        record = _as_bytes(item)
        if record is None or not record or record.isspace():
            reason = "empty record" if record is not None else "record must be a JSON object"
            errors.append(RowError(first_row + offset, WHOLE_ROW, reason))
            continue
        numbers.append(first_row + offset)
        records.append(record)
    return numbers, records, errors, None


def _as_bytes(item: Any) -> bytes | None:
    if type(item) is bytes:
        return item
    if isinstance(item, bytearray | memoryview | msgspec.Raw):
        return bytes(item)
    if isinstance(item, Mapping):
        return msgspec.json.encode(item)
    return None


def _columnar(
    contract: WireContract, records: list[bytes], blob: bytes | None = None
) -> pa.Table | None:
    """Read all records with Arrow's JSON reader, or return None if any of them is bad."""
    data = blob if blob is not None else b"\n".join(records)
    if not _valid_utf8(data):
        return None
    block = max(MIN_READ_BLOCK, 2 * max(map(len, records)) + 2)
    table = _read_json(contract, data, block)
    separators = len(records) - 1 + data.endswith(b"\n")
    if (table is None or table.num_rows != len(records)) and data.count(b"\n") > separators:
        # A record spanning lines (a pretty-printed array element): raw CR/LF in valid JSON can
        # only be whitespace between tokens, so blanking them keeps one record per line.
        data = b"\n".join(r.replace(b"\n", b" ").replace(b"\r", b" ") for r in records)
        table = _read_json(contract, data, block)
    # Each non-blank record yields at least one row or an error, so equal counts mean that
    # every record became exactly one row.
    return table if table is not None and table.num_rows == len(records) else None


def _read_json(contract: WireContract, data: bytes, block: int) -> pa.Table | None:
    try:
        return pajson.read_json(
            pa.BufferReader(data),
            read_options=pajson.ReadOptions(block_size=block),
            parse_options=pajson.ParseOptions(
                explicit_schema=contract.wire_schema, unexpected_field_behavior="error"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _valid_utf8(data: bytes) -> bool:
    # Arrow's JSON reader replaces invalid UTF-8 instead of failing; msgspec refuses it. Check
    # up front (in C, ~10 GB/s) so both paths agree.
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        blob.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _per_line(
    contract: WireContract, records: list[bytes], numbers: list[int], errors: list[RowError]
) -> tuple[list[Any], list[int], list[bytes]]:
    """Decode records one by one: return the good Structs, their row numbers and raw records."""
    decode_one = contract.decoder.decode
    structs: list[Any] = []
    kept: list[int] = []
    good: list[bytes] = []
    for number, record in zip(numbers, records, strict=True):
        try:
            structs.append(decode_one(record))
        except (msgspec.MsgspecError, ValueError, RecursionError) as exc:
            errors.append(from_msgspec(number, exc))
            continue
        kept.append(number)
        good.append(record)
    errors.sort()
    return structs, kept, good
