"""Request and response models for /api/v1/products/.

Request models check JSON types only; the product contract (the same one bulk ingest uses)
checks everything else and names the offending field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from serving.api import Body, Out
from serving.pagination import Page, Paginated
from serving.schemas.images import ImageOut
from warehouse.entities.listing import sort_names

TIMESTAMP_HELP = "RFC 3339 with offset; set by the server when omitted."


class VariantIn(Body):
    id: str
    sku: str = Field(description="Unique within the tenant, like product SKUs.")
    name: str | None = None
    attributes: dict[str, str] | None = None
    price_minor: int | None = Field(None, description="Null: the product's price.")
    stock_quantity: int | None = None


class ProductFields(Body):
    description: str | None = None
    category: str | None = None
    subcategory: str | None = None
    cost_minor: int | None = None
    currency: str | None = Field(None, description="ISO 4217; the tenant's currency if omitted.")
    stock_quantity: int | None = None
    min_stock_level: int | None = None
    tags: list[str] | None = None
    meta_title: str | None = None
    meta_description: str | None = None
    is_active: bool | None = None
    variants: list[VariantIn] | None = None
    created_at: str | None = Field(None, description=TIMESTAMP_HELP)
    updated_at: str | None = Field(None, description=TIMESTAMP_HELP)


class ProductCreate(ProductFields):
    id: str | None = Field(None, description="Your id for the product; generated if omitted.")
    sku: str = Field(description="Unique within the tenant (with variant SKUs).")
    name: str
    price_minor: int = Field(description="Price in minor units of `currency`.")


class ProductReplace(ProductFields):
    id: str | None = Field(None, description="If given, must equal the id in the path.")
    sku: str
    name: str
    price_minor: int


class ProductPatch(ProductFields):
    """A JSON merge patch: fields given replace, `null` clears, lists replace whole."""

    id: str | None = None
    sku: str | None = None
    name: str | None = None
    price_minor: int | None = None


class VariantOut(Out):
    id: str
    sku: str
    name: str | None
    attributes: dict[str, str] | None
    price_minor: int | None
    stock_quantity: int | None


class ProductOut(Out):
    id: str
    sku: str
    name: str
    description: str | None
    category: str | None
    subcategory: str | None
    price_minor: int
    cost_minor: int | None
    currency: str
    stock_quantity: int
    min_stock_level: int
    tags: list[str]
    meta_title: str | None
    meta_description: str | None
    is_active: bool
    variants: list[VariantOut]
    created_at: datetime
    updated_at: datetime
    images: list[ImageOut] = Field(default_factory=list, description="In display order.")


class ProductPage(Paginated[ProductOut]):
    pass


class ProductListQuery(Page):
    id: list[str] | None = Field(None, description="Only these ids (repeat the parameter).")
    sku: str | None = Field(None, description="Product or variant SKU, exactly.")
    category: str | None = None
    subcategory: str | None = None
    is_active: bool | None = None
    tag: str | None = None
    currency: str | None = None
    q: str | None = Field(None, description="Case-insensitive text in the name or SKU.")
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    created_after: AwareDatetime | None = Field(None, description="created_at >= this.")
    created_before: AwareDatetime | None = Field(None, description="created_at < this.")
    updated_after: AwareDatetime | None = Field(None, description="updated_at >= this.")
    sort: Literal[sort_names("products")] = Field(  # type: ignore[valid-type]
        "id", description="Column to sort by; `-` first for descending."
    )
