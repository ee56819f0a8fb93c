"""The control plane's tenants, exported for the build (dbt never opens the control DB)."""

import dagster as dg
import pyarrow.parquet as pq

from pipelines.lib.resources import BuildLockResource, ShoplakeResource
from pipelines.lib.translator import CONTROL_TENANTS
from warehouse.controldb import make_engine, make_session_factory, transaction
from warehouse.controlplane.export import export_tenants


@dg.asset(key=CONTROL_TENANTS, group_name="inputs", kinds={"parquet"})
def control_tenants(
    shoplake: ShoplakeResource, build_lock: BuildLockResource
) -> dg.MaterializeResult:
    """Tenants (time zone, currency, settings) from the control DB as control/tenants.parquet."""
    # build_lock is requested so that every build step runs under the one build lock.
    settings = shoplake.settings()
    engine = make_engine(settings.control_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            path = export_tenants(session, settings.warehouse_file.resolve().parent)
    finally:
        engine.dispose()
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "tenants": pq.read_metadata(path).num_rows,
        }
    )
