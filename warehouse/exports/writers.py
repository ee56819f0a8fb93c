"""Writers per format: append rows, commit a chunk durably, resume, produce the finished file.

The job hands a writer pieces of rows (``append``) and, at the end of each chunk, ``commit``s:
the writer makes the chunk durable and returns a small JSON state that the job records as its
checkpoint; given that state again (``resume``) it continues from there.

* CSV and NDJSON (:class:`TextWriter`) append each piece's bytes to one file; a commit fsyncs
  it, and the checkpoint is (rows, bytes). A resumed run truncates the file to the checkpoint's
  byte offset - dropping anything written after the last commit - and goes on. With gzip each
  chunk is one gzip member, compressed as it is written; concatenated members are one valid
  gzip stream (RFC 1952), and zlib's gzip header carries no time, so a member's bytes depend
  only on its rows.
* Parquet (:mod:`warehouse.exports.columnar`): one part file per chunk, merged into one file
  at the end.
* xlsx (:mod:`warehouse.exports.spreadsheet`): not resumable; a resumed job starts it again.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from warehouse.exports.columnar import ParquetPartsWriter
from warehouse.exports.spec import ExportSpec
from warehouse.exports.spreadsheet import XlsxWriter

GZIP_LEVEL = 6
DATA_FILE = "data"


class Writer(Protocol):
    """What the export job needs from a format."""

    resumable: bool

    def resume(self, state: dict[str, Any] | None) -> int:
        """Prepare the work folder from a checkpoint (None: from scratch); return rows done."""

    def append(self, piece: pa.Table) -> None:
        """Add rows to the current chunk."""

    def commit(self) -> dict[str, Any]:
        """Make the current chunk durable; return the checkpoint state after it."""

    def state(self) -> dict[str, Any]:
        """Return the checkpoint state of what has been committed."""

    def finish(self, schema: pa.Schema) -> Path:
        """Complete the file in the work folder and return its path."""

    def abort(self) -> None:
        """Release open resources after a failure (the work folder stays for a resume)."""


def csv_header(names: list[str]) -> bytes:
    """Return the CSV header line, quoted the way the rows are."""
    empty = pa.table({name: pa.array([], pa.string()) for name in names})
    return _csv(empty, header=True)


def csv_rows(chunk: pa.Table) -> bytes:
    """Return a chunk as CSV lines (strings quoted, nulls empty, LF line ends)."""
    return _csv(chunk, header=False)


def _csv(table: pa.Table, header: bool) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=header))
    return sink.getvalue().to_pybytes()


def ndjson_rows(piece: pa.Table) -> bytes:
    """Return a piece's JSON lines (built by DuckDB, see shaping), each ending in a newline."""
    column = piece.column(0)
    newline = pa.scalar("\n", column.type)
    lines = pc.binary_join_element_wise(column, newline, pa.scalar("", column.type))
    return b"".join(_string_data(chunk) for chunk in lines.chunks)


def _string_data(values: pa.Array) -> bytes:
    # The values of a string array without nulls lie back to back in its data buffer, so the
    # lines need no Python string per row.
    if values.null_count or values.type not in (pa.string(), pa.large_string()):
        return "".join(values.to_pylist()).encode()
    kind = np.int32 if values.type == pa.string() else np.int64
    offsets = np.frombuffer(values.buffers()[1], dtype=kind)
    first, last = offsets[values.offset], offsets[values.offset + len(values)]
    return values.buffers()[2][int(first) : int(last)].to_pybytes()


class TextWriter:
    """Append-only text formats: CSV and NDJSON, optionally one gzip member per chunk."""

    resumable = True

    def __init__(
        self, work: Path, spec: ExportSpec, encode: Callable[[pa.Table], bytes], preamble: bytes
    ) -> None:
        self.work = work
        self.path = work / DATA_FILE
        self.gzip = spec.gzip
        self.encode = encode
        self.preamble = preamble
        self.rows = self.pending = self.bytes = 0
        self.handle: BinaryIO | None = None
        self.member: Any = None  # the zlib compressor of the chunk's gzip member

    def resume(self, state: dict[str, Any] | None) -> int:
        self.work.mkdir(parents=True, exist_ok=True)
        usable = state and self.path.exists() and self.path.stat().st_size >= state["bytes"]
        self.rows, self.bytes = (state["rows"], state["bytes"]) if usable else (0, 0)
        self.handle = open(self.path, "r+b" if usable else "w+b")  # noqa: SIM115 (kept open)
        self.handle.truncate(self.bytes)
        self.handle.seek(self.bytes)
        if not usable and self.preamble:
            self._write(self.preamble)
            self.commit()
        return self.rows

    def append(self, piece: pa.Table) -> None:
        self._write(self.encode(piece))
        self.pending += piece.num_rows

    def commit(self) -> dict[str, Any]:
        assert self.handle is not None
        if self.member is not None:
            self._out(self.member.flush())
            self.member = None
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.rows, self.pending = self.rows + self.pending, 0
        return self.state()

    def state(self) -> dict[str, Any]:
        return {"rows": self.rows, "bytes": self.bytes}

    def finish(self, schema: pa.Schema) -> Path:
        if self.gzip and self.bytes == 0:  # zero rows and no header: still a valid gzip file
            self._write(b"")
            self.commit()
        self.abort()
        return self.path

    def abort(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def _write(self, data: bytes) -> None:
        if not self.gzip:
            self._out(data)
            return
        if self.member is None:  # wbits 31: a gzip member with mtime 0
            self.member = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self._out(self.member.compress(data))

    def _out(self, data: bytes) -> None:
        assert self.handle is not None
        self.handle.write(data)
        self.bytes += len(data)


def make_writer(spec: ExportSpec, work: Path) -> Writer:
    """Return the writer of the spec's format."""
    if spec.format == "csv":
        return TextWriter(work, spec, csv_rows, csv_header(spec.column_names))
    if spec.format == "json":
        return TextWriter(work, spec, ndjson_rows, b"")
    if spec.format == "parquet":
        return ParquetPartsWriter(work)
    if spec.format == "xlsx":
        return XlsxWriter(work, spec)
    raise ValueError(f"unknown export format {spec.format!r}")
