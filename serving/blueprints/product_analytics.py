"""Product analytics over the marts: catalogue summary, low stock, top sellers, categories.

Every answer is read from the tenant's partition of one pinned snapshot and cached per tenant,
snapshot, endpoint and query string (plus the tenant settings it depends on), so a new publish
or a changed setting gives a fresh answer. Same URL prefix as the products CRUD blueprint;
Werkzeug matches these fixed paths before ``/<product_id>/``. Also answers under
``/api/v1/tenants/<id>/products/...``.
"""

from __future__ import annotations

from flask import Blueprint

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant
from serving.marts import cached
from serving.pagination import Keyset, decode_cursor, encode_cursor
from serving.schemas.analytics_products import (
    CatalogueSummary,
    CategoriesSummary,
    LowStockOut,
    LowStockPage,
    LowStockQuery,
    TopSelling,
    TopSellingQuery,
)
from warehouse.analytics import products
from warehouse.controldb.models import Tenant
from warehouse.controlplane.tenant_settings import effective_settings
from warehouse.marts import TenantMarts

bp = Blueprint("product_analytics", __name__, url_prefix="/api/v1/products")

LOW_STOCK = Keyset("products.low_stock", sort=None, id=None)
MART_ERRORS = (503,)


def _tenant() -> Tenant:
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    return tenant


@bp.get("/analytics/")
@require(Permission.MARTS_READ)
@operation(response=CatalogueSummary, errors=MART_ERRORS)
def catalogue_analytics() -> CatalogueSummary:
    """Summarise the catalogue: products, sales, margin, refund rate and stock value."""
    tenant = _tenant()
    default = effective_settings(tenant.settings).low_stock_default

    def compute(marts: TenantMarts) -> CatalogueSummary:
        figures = products.catalogue_summary(marts, default, tenant.currency)
        return CatalogueSummary.model_validate({**figures, "build_id": marts.build_id})

    return cached(CatalogueSummary, compute, default, tenant.currency)


@bp.get("/low_stock/")
@require(Permission.MARTS_READ)
@operation(query=LowStockQuery, response=LowStockPage, errors=(400, *MART_ERRORS))
def low_stock(query: LowStockQuery) -> LowStockPage:
    """List SKUs (variants included) at or below their low-stock threshold, lowest first."""
    after = decode_cursor(LOW_STOCK, query.cursor) if query.cursor else None
    default = effective_settings(_tenant().settings).low_stock_default
    request = products.LowStockRequest(default, query.threshold, query.limit, after)

    def compute(marts: TenantMarts) -> LowStockPage:
        rows = products.low_stock(marts, request)
        page, more = rows[: query.limit], len(rows) > query.limit
        last = page[-1] if more else None
        cursor = encode_cursor(LOW_STOCK, last["stock_quantity"], last["sku"]) if last else None
        data = [LowStockOut.model_validate(row) for row in page]
        return LowStockPage(data=data, next_cursor=cursor, build_id=marts.build_id)

    return cached(LowStockPage, compute, default)


@bp.get("/top_selling/")
@require(Permission.MARTS_READ)
@operation(query=TopSellingQuery, response=TopSelling, errors=MART_ERRORS)
def top_selling(query: TopSellingQuery) -> TopSelling:
    """Rank the best-selling products by revenue, units or margin, optionally in a category."""

    def compute(marts: TenantMarts) -> TopSelling:
        rows = products.top_selling(marts, query.by, query.category, query.limit)
        return TopSelling.model_validate(
            {"build_id": marts.build_id, "by": query.by, "category": query.category, "data": rows}
        )

    return cached(TopSelling, compute)


@bp.get("/categories_summary/")
@require(Permission.MARTS_READ)
@operation(response=CategoriesSummary, errors=MART_ERRORS)
def categories_summary() -> CategoriesSummary:
    """Summarise each category path: products, units, orders, revenue, margin and share."""

    def compute(marts: TenantMarts) -> CategoriesSummary:
        rows = products.categories_summary(marts)
        return CategoriesSummary.model_validate({"build_id": marts.build_id, "data": rows})

    return cached(CategoriesSummary, compute)
