"""Where generated batches go: NDJSON files per tenant and entity (optionally gzip), or the
lake (see `lakesink`). A :class:`SinkSpec` names a sink and can be sent to worker processes.

Files are written as ``<entity>.ndjson[.gz].part`` and renamed when the tenant is done, so a
push never picks up a half-written file. Gzip headers carry no timestamp or name, so the same
seed gives byte-identical files.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import pyarrow as pa

from ingestion.generator.invalid import damage_rows
from ingestion.generator.ndjson import encode_batch, fragments, lines
from ingestion.generator.presets import TenantDef
from ingestion.generator.seeding import rng


class Sink(Protocol):
    """Receives record batches per tenant and entity."""

    def write(self, tenant: TenantDef, entity: str, batch: pa.RecordBatch) -> dict[str, int]:
        """Store one batch; return counts of invalid rows written, by kind."""

    def finish_tenant(self, tenant: TenantDef) -> None:
        """Make everything written for the tenant durable and visible."""

    def files(self) -> list[dict]:
        """Return what was written (path relative to the output, rows, bytes)."""


class NdjsonSink:
    """Write ``<out>/<tenant_slug>/<entity>.ndjson`` (``.ndjson.gz`` with ``compress``)."""

    def __init__(self, out_dir: Path, compress: bool = False, invalid_ratio: float = 0.0,
                 seed: int = 0, level: int = 6):  # fmt: skip
        self.out_dir, self.compress, self.level = Path(out_dir), compress, level
        self.invalid_ratio, self.seed = invalid_ratio, seed
        self._open: dict[str, tuple[BinaryIO, BinaryIO | None, Path]] = {}
        self._written: dict[str, dict] = {}
        self._batches: dict[str, int] = {}

    def _path(self, tenant: TenantDef, entity: str) -> Path:
        suffix = ".ndjson.gz" if self.compress else ".ndjson"
        return self.out_dir / tenant.slug / f"{entity}{suffix}"

    def _handle(self, tenant: TenantDef, entity: str) -> BinaryIO:
        key = f"{tenant.slug}/{entity}"
        if key not in self._open:
            path = self._path(tenant, entity)
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = open(path.with_name(path.name + ".part"), "wb")  # noqa: SIM115 - closed in finish
            zipped = None
            if self.compress:
                zipped = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                       compresslevel=self.level)  # fmt: skip
            self._open[key] = (raw, zipped, path)
            self._written[key] = {"path": str(path.relative_to(self.out_dir)), "rows": 0,
                                  "invalid": 0}  # fmt: skip
        raw, zipped, _ = self._open[key]
        return zipped or raw

    def write(self, tenant: TenantDef, entity: str, batch: pa.RecordBatch) -> dict[str, int]:
        """Encode the batch (damaging some rows if asked) and append it to its file."""
        key = f"{tenant.slug}/{entity}"
        damaged: dict[str, int] = {}
        if self.invalid_ratio > 0 and batch.num_rows:
            number = self._batches.get(key, 0)
            self._batches[key] = number + 1
            g = rng(self.seed, tenant.slug, entity, "invalid", number)
            parts, damaged = damage_rows(entity, batch, fragments(batch), self.invalid_ratio, g)
            data = lines(parts)
        else:
            data = encode_batch(batch)
        self._handle(tenant, entity).write(data)
        self._written[key]["rows"] += batch.num_rows
        self._written[key]["invalid"] += sum(damaged.values())
        return damaged

    def finish_tenant(self, tenant: TenantDef) -> None:
        """Close the tenant's files and rename them into place.

        No fsync: generated files can always be made again; the rename only keeps a reader
        from taking a half-written file for a whole one.
        """
        for key in [k for k in self._open if k.startswith(f"{tenant.slug}/")]:
            raw, zipped, path = self._open.pop(key)
            if zipped is not None:
                zipped.close()
            raw.close()
            os.replace(path.with_name(path.name + ".part"), path)
            self._written[key]["bytes"] = path.stat().st_size

    def files(self) -> list[dict]:
        """Return the files written so far, in write order."""
        return list(self._written.values())


@dataclass(frozen=True)
class SinkSpec:
    """How to open a sink; plain data, so each worker process can open its own."""

    fmt: str  # "ndjson", "ndjson.gz" or "parquet"
    out_dir: Path
    invalid_ratio: float = 0.0
    seed: int = 0
    tenant_ids: tuple[tuple[str, int], ...] = ()  # slug -> control-DB id, for the lake
    run_key: str = ""  # names the run in lake batch ids

    def open(self) -> Sink:
        """Return a fresh sink of this kind."""
        if self.fmt == "parquet":
            from ingestion.generator.lakesink import LakeSink  # only the lake path needs it

            return LakeSink(self.out_dir, dict(self.tenant_ids), self.run_key,
                            self.invalid_ratio, self.seed)  # fmt: skip
        compress = self.fmt == "ndjson.gz"
        return NdjsonSink(self.out_dir, compress, self.invalid_ratio, self.seed)
