"""Hand the control plane's tenant facts to the warehouse build as one Parquet file.

dbt reads tenants (timezone, currency and the analytics thresholds in their settings) from
``<warehouse_dir>/control/tenants.parquet`` instead of the control database, so a build needs no
database driver or credentials and sees one consistent copy for its whole run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.controldb.models import Tenant
from warehouse.controlplane.tenant_settings import effective_settings
from warehouse.publish.layout import write_atomic

TENANTS_SCHEMA = pa.schema(
    [
        pa.field("tenant_id", pa.int64(), nullable=False),
        pa.field("slug", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("timezone", pa.string(), nullable=False),
        pa.field("currency", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        # Effective settings (defaults filled in) as JSON text, so models read every key.
        pa.field("settings", pa.string(), nullable=False),
    ]
)


def tenants_file(warehouse_dir: Path) -> Path:
    """Return where the build reads tenants from."""
    return Path(warehouse_dir) / "control" / "tenants.parquet"


def tenants_table(session: Session) -> pa.Table:
    """Return every tenant as an Arrow table in the export schema, ordered by id."""
    rows = session.scalars(select(Tenant).order_by(Tenant.id)).all()
    columns = {name: [] for name in TENANTS_SCHEMA.names}
    for tenant in rows:
        columns["tenant_id"].append(tenant.id)
        columns["slug"].append(tenant.slug)
        columns["name"].append(tenant.name)
        columns["timezone"].append(tenant.timezone)
        columns["currency"].append(tenant.currency)
        columns["status"].append(str(tenant.status))
        settings = effective_settings(tenant.settings).model_dump(mode="json")
        columns["settings"].append(json.dumps(settings, sort_keys=True))
    return pa.table(columns, schema=TENANTS_SCHEMA)


def export_tenants(session: Session, warehouse_dir: Path) -> Path:
    """Write ``tenants.parquet`` atomically (temp, fsync, rename) and return its path."""
    target = tenants_file(warehouse_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    sink = pa.BufferOutputStream()
    pq.write_table(tenants_table(session), sink, compression="zstd")
    write_atomic(target, sink.getvalue().to_pybytes())
    return target
