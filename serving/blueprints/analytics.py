"""Dashboard analytics under ``/api/v1/analytics/``: events tracking, sales, products, customers,
funnel, the summary overview and real-time metrics.

Mart answers read the tenant's partition of one published snapshot and are cached per
(tenant, snapshot, endpoint, query and resolved range), so a new publish starts fresh and a
default range follows the tenant's midnight. Real-time metrics read the raw tail too and are
never cached. Each kind of answer is one function here, which saved dashboard widgets
(:mod:`serving.blueprints.dashboard_widgets`) call as well.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant
from serving.blueprints import ingest
from serving.entities.context import store
from serving.marts import cached
from serving.protection.bodylimit import accepts_large_body
from serving.schemas.analytics import (
    CustomerAnalyticsOut,
    CustomersQuery,
    FunnelOut,
    FunnelQuery,
    OverviewOut,
    OverviewQuery,
    ProductAnalyticsOut,
    ProductsQuery,
    RangeQuery,
    RealtimeOut,
    RealtimeQuery,
    SalesQuery,
    SalesSeriesOut,
)
from serving.schemas.ingest import IngestResponse
from warehouse.analytics import breakdowns, overview, realtime, series
from warehouse.analytics.periods import Period, local_now, resolve_period
from warehouse.controldb.models import Tenant
from warehouse.marts import TenantMarts

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics")

MART_ERRORS = (422, 503)


def _tenant() -> Tenant:
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return tenant


def period_of(query: RangeQuery) -> Period:
    """Resolve the query's range in the tenant's calendar (ending today there by default)."""
    today = local_now(_tenant().timezone).date()
    return resolve_period(query.start_date, query.end_date, today, query.days)


def _answer(
    out: type[BaseModel], compute: Callable[[TenantMarts], dict], query: BaseModel, *key: Hashable
) -> Any:
    """Return ``out`` of ``compute(marts)`` with its context, cached per snapshot and inputs."""
    tenant = _tenant()

    def build(marts: TenantMarts) -> BaseModel:
        snapshot = {"build_id": marts.build_id, "watermark": marts.snapshot.watermark}
        context = {"timezone": tenant.timezone, "currency": tenant.currency, "snapshot": snapshot}
        return out.model_validate({**compute(marts), **context})

    inputs = (out.__name__, tenant.timezone, tenant.currency, query.model_dump_json(), *key)
    return cached(out, build, *inputs)


def overview_answer(query: OverviewQuery) -> OverviewOut:
    period = period_of(query)
    return _answer(OverviewOut, lambda m: overview.overview(m, period, query.limit), query, period)


def sales_answer(query: SalesQuery) -> SalesSeriesOut:
    period = period_of(query)

    def compute(marts: TenantMarts) -> dict:
        return {"period": period.as_dict(), **series.sales_series(marts, period, query.interval)}

    return _answer(SalesSeriesOut, compute, query, period)


def products_answer(query: ProductsQuery) -> ProductAnalyticsOut:
    def compute(marts: TenantMarts) -> dict:
        return {"scope": "all_time", **breakdowns.product_analytics(marts, query.limit)}

    return _answer(ProductAnalyticsOut, compute, query)


def customers_answer(query: CustomersQuery) -> CustomerAnalyticsOut:
    period = period_of(query)

    def compute(marts: TenantMarts) -> dict:
        return {"period": period.as_dict(), **breakdowns.customer_analytics(marts, period)}

    return _answer(CustomerAnalyticsOut, compute, query, period)


def funnel_answer(query: FunnelQuery) -> FunnelOut:
    period = period_of(query)

    def compute(marts: TenantMarts) -> dict:
        return {"period": period.as_dict(), **series.funnel_series(marts, period)}

    return _answer(FunnelOut, compute, query, period)


def realtime_answer(_query: RealtimeQuery) -> RealtimeOut:
    tenant = _tenant()
    return RealtimeOut.model_validate(realtime.realtime(store(), tenant.timezone, tenant.currency))


# Widget kind -> (its query model, its answer); the endpoint of the same name serves each.
ANSWERS: dict[str, tuple[type[BaseModel], Callable[[Any], BaseModel]]] = {
    "overview": (OverviewQuery, overview_answer),
    "sales": (SalesQuery, sales_answer),
    "products": (ProductsQuery, products_answer),
    "customers": (CustomersQuery, customers_answer),
    "funnel": (FunnelQuery, funnel_answer),
    "realtime": (RealtimeQuery, realtime_answer),
}


@bp.post("/events/")
@accepts_large_body("max_ingest_bytes")
@require(Permission.DATA_INGEST)
@operation(response=IngestResponse, errors=(400, 409, 413, 415, 422))
def track_events() -> Response:
    """Track storefront events: the same contract, write path and answer as ingesting events.

    NDJSON, a JSON array (or ``{"records": [...]}``), gzip or a multipart file; an
    Idempotency-Key shares its scope with ``POST /api/v1/ingest/event/``.
    """
    return ingest.ingest_records("event")


@bp.get("/summary/overview/")
@require(Permission.MARTS_READ)
@operation(query=OverviewQuery, response=OverviewOut, errors=MART_ERRORS)
def summary_overview(query: OverviewQuery) -> OverviewOut:
    """Revenue, orders, AOV, customers, top products and low stock, against the last period."""
    return overview_answer(query)


@bp.get("/sales/")
@require(Permission.MARTS_READ)
@operation(query=SalesQuery, response=SalesSeriesOut, errors=MART_ERRORS)
def sales(query: SalesQuery) -> SalesSeriesOut:
    """Sales by day, week or month over a range of tenant-local days."""
    return sales_answer(query)


@bp.get("/products/")
@require(Permission.MARTS_READ)
@operation(query=ProductsQuery, response=ProductAnalyticsOut, errors=MART_ERRORS)
def products(query: ProductsQuery) -> ProductAnalyticsOut:
    """Product analytics: catalogue sales, top products and the category split."""
    return products_answer(query)


@bp.get("/customers/")
@require(Permission.MARTS_READ)
@operation(query=CustomersQuery, response=CustomerAnalyticsOut, errors=MART_ERRORS)
def customers(query: CustomersQuery) -> CustomerAnalyticsOut:
    """Customer analytics: new vs returning, cohorts, flags and RFM segment counts."""
    return customers_answer(query)


@bp.get("/funnel/")
@require(Permission.MARTS_READ)
@operation(query=FunnelQuery, response=FunnelOut, errors=MART_ERRORS)
def funnel(query: FunnelQuery) -> FunnelOut:
    """Session funnel (view, cart, checkout, order) and its conversion rates by day."""
    return funnel_answer(query)


@bp.get("/realtime/")
@require(Permission.MARTS_READ)
@operation(query=RealtimeQuery, response=RealtimeOut)
def realtime_metrics(query: RealtimeQuery) -> RealtimeOut:
    """Today so far in the tenant's time zone: the snapshot plus the raw tail, never cached."""
    return realtime_answer(query)
