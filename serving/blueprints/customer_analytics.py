"""Customer analytics and RFM segments over the published marts.

* ``analytics/``: tenant-wide - customers by cohort month and by number of orders.
* ``analytics_summary/``: tenant-wide headline figures, VIP / new / inactive counted with the
  tenant's settings as they are now.
* ``<customer_id>/analytics/``: one customer's lifetime figures, flags and RFM scores.
* ``vip_customers/``, ``new_customers/``, ``inactive_customers/`` (cursor-paginated; thresholds
  from settings, overridable by query), ``top_customers/``.
* ``segments/`` and ``segments/<segment>/`` (slug or name, cursor-paginated customers).

Answers are cached per tenant, snapshot, endpoint, query string and thresholds. Same URL prefix
as the customers CRUD blueprint; also answers under ``/api/v1/tenants/<id>/customers/...``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant
from serving.marts import cached
from serving.pagination import Keyset, Page, decode_cursor, encode_cursor
from serving.schemas.analytics_customers import (
    CustomerAnalytics,
    CustomerAnalyticsOut,
    CustomerFigures,
    CustomerFiguresPage,
    CustomerSummary,
    InactiveCustomersQuery,
    NewCustomersQuery,
    SegmentCustomersPage,
    Segments,
    TopCustomers,
    TopCustomersQuery,
    VipCustomersQuery,
)
from warehouse.analytics import customers
from warehouse.controldb.models import Tenant
from warehouse.controlplane.tenant_settings import effective_settings
from warehouse.errors import ServiceError
from warehouse.marts import TenantMarts

bp = Blueprint("customer_analytics", __name__, url_prefix="/api/v1/customers")

MART_ERRORS = (503,)
PAGE_ERRORS = (400, 503)


def _tenant() -> Tenant:
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return tenant


def _thresholds(**override: int | None) -> customers.Thresholds:
    """Return the tenant's thresholds as set now, with a request's overrides."""
    settings = effective_settings(_tenant().settings)
    base = customers.Thresholds(
        settings.vip_lifetime_value_minor,
        settings.new_customer_days,
        settings.inactive_customer_days,
    )
    return replace(base, **{name: value for name, value in override.items() if value is not None})


@bp.get("/analytics/")
@require(Permission.MARTS_READ)
@operation(response=CustomerAnalytics, errors=MART_ERRORS)
def customer_analytics() -> CustomerAnalytics:
    """Break the tenant's buying customers down by cohort month and by number of orders."""
    currency = _tenant().currency

    def compute(marts: TenantMarts) -> CustomerAnalytics:
        figures = customers.analytics(marts)
        return CustomerAnalytics.model_validate(
            {**figures, "build_id": marts.build_id, "currency": currency}
        )

    return cached(CustomerAnalytics, compute, currency)


@bp.get("/analytics_summary/")
@require(Permission.MARTS_READ)
@operation(response=CustomerSummary, errors=MART_ERRORS)
def analytics_summary() -> CustomerSummary:
    """Sum up the tenant's customers: buyers, repeat rate, lifetime value, VIP/new/inactive."""
    thresholds, currency = _thresholds(), _tenant().currency

    def compute(marts: TenantMarts) -> CustomerSummary:
        figures = customers.summary(marts, thresholds)
        extra = {"build_id": marts.build_id, "currency": currency, **vars(thresholds)}
        return CustomerSummary.model_validate({**figures, **extra})

    return cached(CustomerSummary, compute, thresholds, currency)


@bp.get("/<customer_id>/analytics/")
@require(Permission.MARTS_READ)
@operation(response=CustomerAnalyticsOut, errors=(404, *MART_ERRORS))
def one_customer_analytics(customer_id: str) -> CustomerAnalyticsOut:
    """Show one customer's lifetime figures, VIP/new/inactive flags and RFM scores."""
    thresholds = _thresholds()

    def compute(marts: TenantMarts) -> CustomerAnalyticsOut | None:
        row = customers.one_customer(marts, thresholds, customer_id)
        if row is None:
            return None
        return CustomerAnalyticsOut.model_validate({**row, "build_id": marts.build_id})

    found = cached(CustomerAnalyticsOut | None, compute, thresholds, customer_id)
    if found is None:
        raise ServiceError("customer_id", "no such customer in the published marts", 404)
    return found


@bp.get("/vip_customers/")
@require(Permission.MARTS_READ)
@operation(query=VipCustomersQuery, response=CustomerFiguresPage, errors=PAGE_ERRORS)
def vip_customers(query: VipCustomersQuery) -> CustomerFiguresPage:
    """List VIP customers (lifetime value at or above the threshold), highest value first."""
    thresholds = _thresholds(vip_lifetime_value_minor=query.min_lifetime_value_minor)
    page = _figures_page("vip", query, thresholds)
    return CustomerFiguresPage(**page, threshold=thresholds.vip_lifetime_value_minor)


@bp.get("/new_customers/")
@require(Permission.MARTS_READ)
@operation(query=NewCustomersQuery, response=CustomerFiguresPage, errors=PAGE_ERRORS)
def new_customers(query: NewCustomersQuery) -> CustomerFiguresPage:
    """List customers whose first order is recent, newest first."""
    thresholds = _thresholds(new_customer_days=query.days)
    page = _figures_page("new", query, thresholds)
    return CustomerFiguresPage(**page, threshold=thresholds.new_customer_days)


@bp.get("/inactive_customers/")
@require(Permission.MARTS_READ)
@operation(query=InactiveCustomersQuery, response=CustomerFiguresPage, errors=PAGE_ERRORS)
def inactive_customers(query: InactiveCustomersQuery) -> CustomerFiguresPage:
    """List customers without an order for a while, longest inactive first."""
    thresholds = _thresholds(inactive_customer_days=query.days)
    page = _figures_page("inactive", query, thresholds)
    return CustomerFiguresPage(**page, threshold=thresholds.inactive_customer_days)


@bp.get("/top_customers/")
@require(Permission.MARTS_READ)
@operation(query=TopCustomersQuery, response=TopCustomers, errors=MART_ERRORS)
def top_customers(query: TopCustomersQuery) -> TopCustomers:
    """Rank customers by lifetime value, number of orders or average order value."""
    thresholds = _thresholds()

    def compute(marts: TenantMarts) -> TopCustomers:
        rows = customers.top_customers(marts, thresholds, query.by, query.limit)
        return TopCustomers.model_validate(
            {"build_id": marts.build_id, "by": query.by, "data": rows}
        )

    return cached(TopCustomers, compute, thresholds)


@bp.get("/segments/")
@require(Permission.MARTS_READ)
@operation(response=Segments, errors=MART_ERRORS)
def segments() -> Segments:
    """List the RFM segments with customer counts, share and average values."""

    def compute(marts: TenantMarts) -> Segments:
        return Segments.model_validate({**customers.segments(marts), "build_id": marts.build_id})

    return cached(Segments, compute)


@bp.get("/segments/<segment>/")
@require(Permission.MARTS_READ)
@operation(query=Page, response=SegmentCustomersPage, errors=(404, *PAGE_ERRORS))
def segment_customers(segment: str, query: Page) -> SegmentCustomersPage:
    """List the customers of one RFM segment, highest spend in the window first."""
    name = customers.segment_named(segment)
    if name is None:
        known = ", ".join(customers.segment_slug(s) for s in customers.SEGMENTS)
        raise ServiceError("segment", f"no such RFM segment; one of: {known}", 404)
    page = _figures_page("segment", query, _thresholds(), (name,))
    return SegmentCustomersPage(**page, segment=name, slug=customers.segment_slug(name))


def _figures_page(
    kind: str, query: Page, thresholds: customers.Thresholds, params: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Return one page of a customer list: ``data``, ``next_cursor`` and ``build_id``."""
    # Each list signs its own cursors, so one list's cursor is refused by another.
    keyset = Keyset(f"customers.{kind}", sort=None, id=None)
    after = decode_cursor(keyset, query.cursor) if query.cursor else None
    listing = customers.listing(kind, query.limit, after, params)

    def compute(marts: TenantMarts) -> dict[str, Any]:
        rows = customers.customer_page(marts, thresholds, listing)
        last = rows[query.limit - 1] if len(rows) > query.limit else None
        cursor = encode_cursor(keyset, last[listing.sort], last["customer_id"]) if last else None
        data = [CustomerFigures.model_validate(row) for row in rows[: query.limit]]
        return {"data": data, "next_cursor": cursor, "build_id": marts.build_id}

    return cached(dict[str, Any], compute, thresholds, params)
