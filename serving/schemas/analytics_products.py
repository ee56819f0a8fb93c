"""Request and response models of the product analytics endpoints (amounts in minor units)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from serving.api import Out, Query
from serving.pagination import Page, Paginated

RATIO = "A ratio (0.1234 = 12.34 %), 4 decimals rounded half away from zero; null when undefined."


class CatalogueSummary(Out):
    build_id: str = Field(description="The published snapshot the figures come from.")
    currency: str
    product_count: int
    active_product_count: int
    inactive_product_count: int
    sold_product_count: int = Field(description="Products with at least one unit sold.")
    costed_product_count: int = Field(description="Products whose cost is known.")
    units_sold: int = Field(description="Units on counted orders (paid, fulfilled, refunded).")
    revenue_minor: int = Field(description="Line revenue: quantity x unit price - line discount.")
    costed_revenue_minor: int = Field(description="Revenue of the products whose cost is known.")
    margin_minor: int = Field(description="costed revenue - units x cost.")
    margin_rate: float | None = Field(description="margin / costed revenue. " + RATIO)
    refund_rate: float | None = Field(
        description="Share of (product, order) sales whose order had a succeeded refund. " + RATIO
    )
    sku_count: int = Field(description="Stock-keeping units: products without variants + variants.")
    stock_units: int = Field(description="Units in stock (negative levels count as 0).")
    stock_value_minor: int = Field(description="Units in stock x unit price (tenant currency).")
    stock_cost_minor: int = Field(description="Units in stock x cost, where the cost is known.")
    low_stock_sku_count: int = Field(description="SKUs at or below their low-stock threshold.")
    out_of_stock_sku_count: int


class LowStockQuery(Page):
    threshold: int | None = Field(
        None,
        ge=0,
        description="List SKUs at or below this level; default: each product's min_stock_level, "
        "else the tenant's low_stock_default.",
    )


class LowStockOut(Out):
    product_id: str
    variant_id: str | None = Field(description="Null for a product without variants.")
    sku: str
    product_name: str
    variant_name: str | None
    stock_quantity: int
    min_stock_level: int = Field(description="The threshold this SKU was compared with.")
    is_out_of_stock: bool
    units_sold_30d: int
    sales_velocity_per_day: float
    days_of_cover: float | None = Field(description="Stock / velocity; null without sales.")
    last_movement_at: datetime | None


class LowStockPage(Paginated[LowStockOut]):
    build_id: str


class TopSellingQuery(Query):
    by: Literal["revenue", "units", "margin"] = Field(
        "revenue", description="Rank by line revenue, units sold or margin (costed products)."
    )
    category: str | None = Field(
        None,
        min_length=1,
        description="A category ('Apparel') or category path ('Apparel > T-Shirts').",
    )
    limit: int = Field(10, ge=1, le=100, description="How many products (1-100).")


class TopSellingOut(Out):
    position: int
    product_id: str
    sku: str
    product_name: str
    category_path: str
    units_sold: int
    order_count: int
    revenue_minor: int
    margin_minor: int | None = Field(description="Null when the product's cost is unknown.")
    margin_rate: float | None
    refund_rate: float | None
    is_active: bool
    last_sold_at: datetime | None


class TopSelling(Out):
    build_id: str
    by: str
    category: str | None
    data: list[TopSellingOut]


class CategoryOut(Out):
    category_path: str = Field(description="'Category > Subcategory'; 'Uncategorized' if none.")
    product_count: int
    active_product_count: int
    sold_product_count: int
    units_sold: int
    order_count: int = Field(description="Counted orders with a line of the category.")
    revenue_minor: int
    costed_revenue_minor: int
    margin_minor: int
    margin_rate: float | None = Field(description="margin / costed revenue. " + RATIO)
    revenue_share: float | None = Field(description="Share of the tenant's revenue. " + RATIO)
    revenue_rank: int


class CategoriesSummary(Out):
    build_id: str
    data: list[CategoryOut]
