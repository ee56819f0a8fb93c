"""The one entry point the CLI calls: generate a preset into NDJSON files or into the lake.

Tenants are independent (own random streams, own files or batches), so with ``workers > 1``
they are generated in parallel processes and the output is byte-for-byte the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingestion.generator.presets import Preset, TenantDef, resolve, tenant_definitions
from ingestion.generator.progress import EntityStats, Progress
from ingestion.generator.sinks import SinkSpec
from ingestion.generator.tenant import TenantRun

FORMATS = ("ndjson", "ndjson.gz", "parquet")
DEFAULT_PROGRESS_INTERVAL = 5.0


@dataclass
class GenerateSummary:
    """What a run produced: per-entity rows, invalid rows, rows/s and the files written."""

    preset: str
    seed: int
    fmt: str
    out_dir: str
    tenants: list[dict[str, str]]
    sizes: dict[str, Any]
    entities: dict[str, dict] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    rows: int = 0
    invalid_rows: int = 0
    elapsed_s: float = 0.0
    rows_per_s: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-able data."""
        return asdict(self)


def generate(
    preset: str = "tiny",
    out_dir: str | Path = "var/generated",
    seed: int = 42,
    fmt: str = "ndjson",
    overrides: Mapping[str, Any] | None = None,
    tenants: int | None = None,
    invalid_ratio: float = 0.0,
    progress: bool | float = True,
    *,
    tenant_ids: Mapping[str, int] | None = None,
    workers: int = 1,
) -> GenerateSummary:
    """Generate ``preset`` deterministically into ``out_dir`` and return a summary.

    ``fmt``: "ndjson" or "ndjson.gz" (``<out_dir>/<tenant_slug>/<entity>.ndjson[.gz]`` plus a
    ``manifest.json``), or "parquet" (landed in the lake rooted at ``out_dir`` through the
    contracts and the lake writer; ``tenant_ids`` maps slugs to control-DB tenant ids, default
    1, 2, ... in preset order). ``overrides``: sizes by name (products, customers, orders,
    items_per_order, price_samples, sessions_per_order, notes_ratio, days, end).
    ``invalid_ratio``: share of rows damaged so the contracts reject them. ``progress``: True
    logs every 5 s, a number sets the interval, False is silent. ``workers``: processes.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
    if not 0 <= invalid_ratio <= 1:
        raise ValueError("invalid_ratio must be within 0..1")
    chosen = resolve(preset, dict(overrides or {}), tenants)
    defs = tenant_definitions(chosen.name, chosen.tenants)
    ids = dict(tenant_ids or {t.slug: i + 1 for i, t in enumerate(defs)})
    missing = [t.slug for t in defs if t.slug not in ids]
    if fmt == "parquet" and missing:
        raise ValueError(f"tenant_ids has no id for {missing}")
    spec = SinkSpec(fmt, Path(out_dir), invalid_ratio, seed, tuple(sorted(ids.items())),
                    _run_key(chosen, seed, invalid_ratio))  # fmt: skip
    interval = DEFAULT_PROGRESS_INTERVAL if progress is True else (progress or None)
    summary = _run(chosen, defs, seed, spec, interval, max(1, int(workers)))
    if fmt != "parquet":
        _write_manifest(Path(out_dir), summary)
    return summary


def _run_key(preset: Preset, seed: int, invalid_ratio: float) -> str:
    # Everything the data depends on: another size or seed is another run, the same is a replay.
    material = json.dumps([preset.name, asdict(preset.sizes), seed, invalid_ratio], default=str)
    return "generate-" + hashlib.sha256(material.encode()).hexdigest()[:16]


def generate_tenants(
    jobs: list[tuple[int, TenantDef]], preset: Preset, seed: int, spec: SinkSpec,
    interval: float | None,
) -> tuple[dict[str, EntityStats], list[dict], int]:  # fmt: skip
    """Generate the given (index, tenant) pairs into one sink; return stats, files, rows."""
    sink = spec.open()
    progress = Progress(interval)
    for index, tenant in jobs:
        progress.tenant = tenant.slug
        TenantRun(tenant, index, preset.sizes, seed, sink, progress).run()
    return progress.entities, sink.files(), progress.rows


def _run(preset, defs, seed, spec, interval, workers) -> GenerateSummary:
    progress = Progress(interval)  # the whole run's clock; workers count their own rows
    jobs = [[(i, t)] for i, t in enumerate(defs)] if workers > 1 else [list(enumerate(defs))]
    if len(jobs) > 1:
        context = multiprocessing.get_context("spawn")  # no fork of Arrow's thread pools
        level = logging.getLogger().level
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context,
                                 initializer=_init_worker, initargs=(level,)) as pool:  # fmt: skip
            futures = [pool.submit(generate_tenants, job, preset, seed, spec, interval)
                       for job in jobs]  # fmt: skip
            results = [future.result() for future in futures]
    else:
        results = [generate_tenants(jobs[0], preset, seed, spec, interval)]
    for entities, _, rows in results:
        progress.rows += rows
        for name, stats in entities.items():
            _merge(progress.entities.setdefault(name, EntityStats()), stats)
    progress.log("generate finished")
    return _summary(
        preset, seed, spec, defs, progress, [f for _, files, _ in results for f in files]
    )


def _merge(into: EntityStats, stats: EntityStats) -> None:
    into.rows += stats.rows
    into.seconds += stats.seconds
    for kind, count in stats.invalid.items():
        into.invalid[kind] = into.invalid.get(kind, 0) + count


def _init_worker(level: int) -> None:
    from warehouse.logs import configure

    configure(logging.getLevelName(level))


def _summary(preset, seed, spec, defs, progress, files) -> GenerateSummary:
    sizes = {k: str(v) if k == "end" else v for k, v in asdict(preset.sizes).items()}
    elapsed = progress.elapsed
    return GenerateSummary(
        preset=preset.name, seed=seed, fmt=spec.fmt, out_dir=str(spec.out_dir),
        tenants=[t.control_fields() for t in defs], sizes=sizes,
        entities={k: v.as_dict() for k, v in sorted(progress.entities.items())},
        files=files, rows=progress.rows,
        invalid_rows=sum(sum(v.invalid.values()) for v in progress.entities.values()),
        elapsed_s=round(elapsed, 3), rows_per_s=round(progress.rows / elapsed) if elapsed else 0,
    )  # fmt: skip


def _write_manifest(out: Path, summary: GenerateSummary) -> None:
    # Only what the data depends on, so the manifest is as reproducible as the files.
    keep = ("preset", "seed", "fmt", "tenants", "sizes", "files", "rows", "invalid_rows")
    manifest = {k: v for k, v in summary.as_dict().items() if k in keep}
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
