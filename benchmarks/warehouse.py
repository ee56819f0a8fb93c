"""A real warehouse for the serving benchmarks: control DB, tenants, keys, data, build, publish.

The serve, search-memory and export benchmarks measure the running server against marts built
by the real build job from generated data, exactly as production reads them; this module is the
part they share. ``settle`` waits until a bulk load is older than the snapshot tail's grace, so
the steady state (everything in the snapshot, a tiny raw tail) is what gets measured.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ingestion.generator import generate, tenant_definitions
from pipelines.build import BuildResult, run_build
from pipelines.lib.rereads import CLAIM_GRACE
from warehouse.config import Settings, load_settings
from warehouse.controldb import make_engine, make_session_factory, transaction, upgrade
from warehouse.controlplane import apikeys
from warehouse.controlplane import tenants as tenant_service

SETTLE_MARGIN_S = 10.0


@dataclass(frozen=True)
class BenchWarehouse:
    """One benchmark's ``var/``: settings, and its tenants' ids by slug in preset order."""

    settings: Settings
    preset: str
    tenant_ids: Mapping[str, int]

    @property
    def first_tenant(self) -> int:
        return next(iter(self.tenant_ids.values()))

    def key(self, scopes: list[str], tenant_id: int | None = None) -> str:
        """Create an API key of a tenant (the first by default) and return its secret."""
        engine = make_engine(self.settings.control_db_url)
        try:
            with transaction(make_session_factory(engine), write=True) as session:
                tenant = tenant_id or self.first_tenant
                return apikeys.create_key(session, tenant, "bench", scopes).secret
        finally:
            engine.dispose()

    def generate(self, overrides: Mapping[str, int], preset: str = "", **options) -> float:
        """Land a preset's data (this warehouse's by default) as Parquet; return the seconds."""
        started = time.perf_counter()
        generate(preset or self.preset, self.settings.lake_root, fmt="parquet",
                 overrides=dict(overrides),
                 tenants=len(self.tenant_ids), tenant_ids=dict(self.tenant_ids), progress=False,
                 **options)  # fmt: skip
        seconds = time.perf_counter() - started
        print(f"generated {dict(overrides)} x {len(self.tenant_ids)} tenant(s) in {seconds:.0f} s",
              flush=True)  # fmt: skip
        return seconds

    def build(self, full_refresh: bool = True) -> BuildResult:
        """Run the real build job (no Dagster UI, an ephemeral instance) and publish."""
        import dagster as dg  # only the benchmarks that build pay for importing it

        started = time.perf_counter()
        with dg.DagsterInstance.ephemeral() as instance:
            result = run_build(self.settings, full_refresh=full_refresh, instance=instance)
        print(f"built and published in {time.perf_counter() - started:.0f} s", flush=True)
        return result

    def settle(self, loaded_at: float) -> None:
        """Wait until the load made at ``loaded_at`` leaves the raw tail, then land a trickle.

        A snapshot's tail starts CLAIM_GRACE before its watermark (batches stamp themselves just
        before they become visible). Right after a bulk load every row is that recent; landing a
        few orders once the load is older moves the next build's watermark past it, so reads
        take the load from the snapshot, as in a shop's steady state. Build afterwards.
        """
        wait = loaded_at + CLAIM_GRACE.total_seconds() + SETTLE_MARGIN_S - time.time()
        if wait > 0:
            print(f"settling {wait:.0f} s so the load leaves the raw tail", flush=True)
            time.sleep(wait)
        self.generate({"orders": 20}, preset="tiny", seed=7)


def create(var_dir: Path, preset: str, tenants: int = 1) -> BenchWarehouse:
    """Make ``var_dir`` with a migrated SQLite control DB and the preset's first tenants."""
    url = f"sqlite:///{var_dir / 'control.db'}"
    var_dir.mkdir(parents=True)
    upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine), write=True) as session:
            ids = {
                tenant.slug: tenant_service.create_tenant(session, **tenant.control_fields()).id
                for tenant in tenant_definitions(preset, tenants)
            }
    finally:
        engine.dispose()
    settings = load_settings({"var_dir": var_dir, "database_url": url}, environ={})
    return BenchWarehouse(settings, preset, ids)
