"""Parquet exports: one part file per chunk while running, one Parquet file at the end.

A Parquet file cannot be appended to (its footer comes last), so each chunk is written as its
own Arrow IPC part, one record batch per piece, then fsynced and renamed into place
before the checkpoint names it. A resumed run deletes parts past the checkpoint (written after
it) and goes on. ``finish`` streams the parts' batches, in order, into one Parquet file (zstd)
with one row group per piece - 16,384 rows, as in the published marts, or fewer at a chunk's
end - so memory holds one row group, and the bytes depend only on the rows: pieces are cut at
the same offsets on every run, so a resumed export equals an uninterrupted one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from warehouse.exports.files import fsync_dir, fsync_file

PARQUET_FILE = "data.parquet"
PART_PATTERN = "part-*.arrow"
# Parts are not compressed: codec buffers cost more memory (measured: ~35 MB) than the
# temporary disk space saved, and the merge memory-maps them instead of reading them in.
_IPC_OPTIONS = ipc.IpcWriteOptions(compression=None)


class ParquetPartsWriter:
    """Chunks as IPC parts, merged into one Parquet file (zstd, a row group per piece)."""

    resumable = True

    def __init__(self, work: Path) -> None:
        self.work = work
        self.parts = self.rows = self.pending = 0
        self.sink: Any = None
        self.writer: Any = None

    def part(self, index: int) -> Path:
        """Return the path of the ``index``-th part."""
        return self.work / f"part-{index:06d}.arrow"

    def resume(self, state: dict[str, Any] | None) -> int:
        self.work.mkdir(parents=True, exist_ok=True)
        parts, rows = (state["parts"], state["rows"]) if state else (0, 0)
        if not all(self.part(i).exists() for i in range(parts)):
            parts, rows = 0, 0  # a part the checkpoint names is gone: from scratch
        for path in self.work.iterdir():
            if path.name.endswith(".tmp") or path.name == PARQUET_FILE or self._past(path, parts):
                path.unlink()
        self.parts, self.rows = parts, rows
        return rows

    @staticmethod
    def _past(path: Path, parts: int) -> bool:
        # A part at or past the checkpoint's count was written after it.
        return path.match(PART_PATTERN) and int(path.stem.split("-")[1]) >= parts

    def append(self, piece: pa.Table) -> None:
        if self.writer is None:
            self.sink = pa.OSFile(str(self._temporary()), "wb")
            self.writer = ipc.new_file(self.sink, piece.schema, options=_IPC_OPTIONS)
        self.writer.write_batch(piece.combine_chunks().to_batches()[0])  # one batch per piece
        self.pending += piece.num_rows

    def commit(self) -> dict[str, Any]:
        self.abort()
        temporary = self._temporary()
        fsync_file(temporary)
        os.replace(temporary, self.part(self.parts))
        fsync_dir(self.work)
        self.parts, self.rows, self.pending = self.parts + 1, self.rows + self.pending, 0
        return self.state()

    def state(self) -> dict[str, Any]:
        return {"rows": self.rows, "parts": self.parts}

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.sink.close()
            self.writer = self.sink = None

    def _temporary(self) -> Path:
        return self.work / f"part-{self.parts:06d}.arrow.tmp"

    def finish(self, schema: pa.Schema) -> Path:
        target = self.work / PARQUET_FILE
        with pq.ParquetWriter(target, schema, compression="zstd") as writer:
            for index in range(self.parts):
                with pa.memory_map(str(self.part(index))) as source:
                    part = ipc.open_file(source)
                    for batch in range(part.num_record_batches):
                        writer.write_batch(part.get_batch(batch))  # a row group each
        return target
