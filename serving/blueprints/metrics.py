"""Sales metrics over the published marts: ``GET /api/v1/metrics/sales/``.

Answers are read from one pinned snapshot and cached per (tenant, snapshot, query); a new
publish starts fresh. See :mod:`warehouse.metrics` for sources, precision and bounds.
"""

from __future__ import annotations

from flask import Blueprint

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant
from serving.marts import cached
from serving.schemas.metrics import SalesMetricsQuery, SalesMetricsReport
from warehouse.metrics import make_request, sales_report

bp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics")


@bp.get("/sales/")
@require(Permission.MARTS_READ)
@operation(query=SalesMetricsQuery, response=SalesMetricsReport, errors=(422, 503))
def sales_metrics(query: SalesMetricsQuery) -> SalesMetricsReport:
    """Sales by day, hour, product or category, with unique customers and percentiles."""
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    req = make_request(
        query.group_by,
        query.precision,
        tenant.timezone,
        tenant.currency,
        query.start_date,
        query.end_date,
    )
    calendar = (tenant.timezone, tenant.currency)
    return cached(
        SalesMetricsReport,
        lambda marts: SalesMetricsReport.model_validate(sales_report(marts, req)),
        *calendar,
    )
