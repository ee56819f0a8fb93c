"""Order analytics: sales figures over a date range, and the recent, pending and high-value lists.

``analytics/`` reads the published marts (cached per tenant, snapshot and query). The three
lists read orders the way the CRUD list does - the published snapshot plus the raw tail landed
since its watermark - so an order created, changed or deleted through CRUD shows (or drops out)
at once; they are never cached. Same URL prefix as the orders CRUD blueprint; also answers under
``/api/v1/tenants/<id>/orders/...``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant
from serving.entities.context import call, store
from serving.marts import cached
from serving.pagination import Keyset, Page, decode_cursor, encode_cursor
from serving.schemas.analytics_orders import (
    HighValueOrdersQuery,
    OrderAnalytics,
    OrderAnalyticsQuery,
    PendingOrdersQuery,
    RecentOrdersQuery,
)
from serving.schemas.orders import OrderOut, OrderPage
from warehouse.analytics import orders
from warehouse.controldb.models import Tenant
from warehouse.controlplane.tenant_settings import effective_settings
from warehouse.entities.listing import ListRequest, list_records
from warehouse.entities.resources import ORDERS
from warehouse.marts import TenantMarts

bp = Blueprint("order_analytics", __name__, url_prefix="/api/v1/orders")

LIST_ERRORS = (400, 422)


def _tenant() -> Tenant:
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return tenant


@bp.get("/analytics/")
@require(Permission.MARTS_READ)
@operation(query=OrderAnalyticsQuery, response=OrderAnalytics, errors=(503,))
def order_analytics(query: OrderAnalyticsQuery) -> OrderAnalytics:
    """Count orders by status and sum sales, refunds and AOV over tenant-local days."""
    tenant = _tenant()
    window = orders.Window.of(query.start_date, query.end_date, tenant.timezone)

    def compute(marts: TenantMarts) -> OrderAnalytics:
        figures = orders.order_analytics(marts, window, tenant.currency)
        snapshot = {"build_id": marts.build_id, "data_through": marts.snapshot.watermark}
        return OrderAnalytics.model_validate({**figures, **snapshot})

    # The window is part of the key: without dates it moves with the tenant's "today".
    return cached(OrderAnalytics, compute, window, tenant.currency)


@bp.get("/recent/")
@require(Permission.DATA_READ)
@operation(query=RecentOrdersQuery, response=OrderPage, errors=LIST_ERRORS)
def recent_orders(query: RecentOrdersQuery) -> OrderPage:
    """List the newest orders first, including ones written moments ago."""
    return _order_page("recent", query, {"status": query.status}, "-created_at")


@bp.get("/pending/")
@require(Permission.DATA_READ)
@operation(query=PendingOrdersQuery, response=OrderPage, errors=LIST_ERRORS)
def pending_orders(query: PendingOrdersQuery) -> OrderPage:
    """List orders still pending, newest first, including ones written moments ago."""
    return _order_page("pending", query, {"status": ["pending"]}, "-created_at")


@bp.get("/high_value/")
@require(Permission.DATA_READ)
@operation(query=HighValueOrdersQuery, response=OrderPage, errors=LIST_ERRORS)
def high_value_orders(query: HighValueOrdersQuery) -> OrderPage:
    """List orders at or above the high-value threshold, largest total first."""
    threshold = query.min_total_minor
    if threshold is None:
        threshold = effective_settings(_tenant().settings).high_value_order_minor
    filters = {"min_total_minor": threshold, "status": query.status}
    return _order_page("high_value", query, filters, "-total_minor")


def _order_page(name: str, query: Page, filters: dict[str, Any], sort: str) -> OrderPage:
    # Each list signs its own cursors, so one list's cursor is refused by another.
    keyset = Keyset(f"orders.{name}", sort=None, id=None)
    after = decode_cursor(keyset, query.cursor) if query.cursor else None
    given = {key: value for key, value in filters.items() if value is not None}
    request = ListRequest(filters=given, sort=sort, limit=query.limit, after=after)
    page = call(list_records, store(), ORDERS, request)
    cursor = encode_cursor(keyset, *page.last) if page.last else None
    return OrderPage(data=[OrderOut.model_validate(r) for r in page.records], next_cursor=cursor)
