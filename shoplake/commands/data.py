"""Data commands: generate synthetic data, push NDJSON to the API, compact the raw zone."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import click

from ingestion.generator import FORMATS, PRESETS, generate
from ingestion.push import PushError, PushOptions, PushStats, push_file
from shoplake.commands.common import settings_of
from warehouse.contracts import CONTRACTS
from warehouse.entities.sources import current_state_entities
from warehouse.lake import LakeBusy, compact

# Generator files are named after the lake entity (orders.ndjson); the API takes the contract.
ENTITY_OF_FILE = {contract.entity: name for name, contract in CONTRACTS.items()}
# Push parents before children so references resolve in the order a merchant would send them.
PUSH_ORDER = (
    "products",
    "customers",
    "orders",
    "refunds",
    "stock_events",
    "price_events",
    "events",
    "customer_notes",
)


@click.command("generate")
@click.option("--preset", type=click.Choice(list(PRESETS)), default="small", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder for NDJSON (default var/generated/<preset>); for parquet, "
    "the lake is always the configured one.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="ndjson", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--tenants", type=int, default=None, help="How many of the preset's tenants.")
@click.option(
    "--size",
    "sizes",
    multiple=True,
    metavar="NAME=N",
    help="Override a size: products, customers, orders, items_per_order, "
    "price_samples, sessions_per_order, days.",
)
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day of generated history (default: the preset's fixed end date).",
)
@click.option(
    "--invalid-ratio",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of rows damaged on purpose, to exercise validation.",
)
@click.option("--workers", type=int, default=1, show_default=True)
@click.pass_context
def generate_command(ctx, preset, out_dir, fmt, seed, tenants, sizes, end, invalid_ratio, workers):
    """Generate deterministic synthetic shop data (same seed, same bytes).

    NDJSON lands in <out>/<tenant>/<entity>.ndjson for `shoplake push`; `--format parquet`
    lands straight into the lake through the same contracts and writer as ingestion.
    """
    settings = settings_of(ctx)
    overrides: dict = {}
    for pair in sizes:
        name, _, value = pair.partition("=")
        overrides[name.strip()] = float(value) if "." in value else int(value)
    if end is not None:
        overrides["end"] = end.date() if hasattr(end, "date") else date.fromisoformat(end)
    target = (
        settings.lake_root
        if fmt == "parquet"
        else out_dir or settings.var_dir / "generated" / preset
    )
    summary = generate(
        preset, target, seed, fmt, overrides, tenants, invalid_ratio, progress=True, workers=workers
    )
    result = summary.as_dict()
    click.echo(json.dumps({k: result[k] for k in result if k != "files"}, indent=2, default=str))
    click.echo(f"wrote {target}")


@click.command("push")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--url", default=None, help="API base URL (default http://<host>:<port>).")
@click.option(
    "--api-key",
    envvar="SHOPLAKE_API_KEY",
    required=True,
    help="An API key with the ingest scope (or SHOPLAKE_API_KEY).",
)
@click.option(
    "--entity",
    type=click.Choice(sorted(CONTRACTS)),
    default=None,
    help="Entity of SOURCE when it is one file not named after its entity.",
)
@click.option("--lines-per-chunk", type=int, default=20_000, show_default=True)
@click.option("--no-gzip", is_flag=True, help="Send chunks uncompressed.")
@click.pass_context
def push_command(ctx, source, url, api_key, entity, lines_per_chunk, no_gzip):
    """Push NDJSON files (a file, or a folder of <entity>.ndjson[.gz]) to the ingest API.

    Each chunk carries a deterministic Idempotency-Key: an interrupted push resumes where it
    stopped (state is kept beside each file), and a repeated push lands nothing new.
    """
    settings = settings_of(ctx)
    base = url or f"http://{settings.host}:{settings.port}"
    stats = PushStats()
    for path, name in push_plan(source, entity):
        options = PushOptions(base, api_key, name, lines_per_chunk, None if no_gzip else 1)
        click.echo(f"pushing {path} as {name}")
        try:
            push_file(path, options, stats)
        except PushError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(stats.summary(), indent=2))


def push_plan(source: Path, entity: str | None) -> list[tuple[Path, str]]:
    """Return (file, ingest entity) pairs to push, parents before children."""
    if source.is_file():
        name = entity or ENTITY_OF_FILE.get(source.name.split(".")[0])
        if name is None:
            raise click.BadParameter("cannot tell the entity from the file name; use --entity")
        return [(source, name)]
    plan = []
    for lake_entity in PUSH_ORDER:
        for path in sorted(source.glob(f"{lake_entity}.ndjson*")):
            if not path.name.endswith((".ndjson", ".ndjson.gz")):
                continue
            plan.append((path, ENTITY_OF_FILE[lake_entity]))
    if not plan:
        raise click.BadParameter(f"no <entity>.ndjson files in {source}")
    return plan


@click.command("compact")
@click.option("--entity", "entities", multiple=True, help="Only these lake entities.")
@click.option("--tenant", "tenant_ids", multiple=True, type=int, help="Only these tenant ids.")
@click.pass_context
def compact_command(ctx, entities, tenant_ids):
    """Merge small raw files per partition, sorted by business key (safe for readers)."""
    settings = settings_of(ctx)
    started = time.perf_counter()
    try:
        report = compact(
            settings.lake_root,
            entities=list(entities) or None,
            tenant_ids=list(tenant_ids) or None,
            current_entities=current_state_entities(settings.var_dir),
        )
    except LakeBusy as exc:
        raise click.ClickException(f"compaction already running: {exc}") from None
    click.echo(
        json.dumps(
            {**vars(report), "seconds": round(time.perf_counter() - started, 2)},
            indent=2,
            default=str,
        )
    )
