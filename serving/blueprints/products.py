"""Products CRUD: list, create, read, replace, update, delete, bulk.

Writes are small ingests through the product contract; reads combine the published snapshot
with the raw tail, so a write is visible on the next read. Also answers under
``/api/v1/tenants/<id>/products/``. Analytics routes on products live in their own modules.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from serving.auth.tenancy import tenant_id
from serving.blueprints.images import url_signer
from serving.db import db
from serving.entities.crud import CrudDocs, CrudModels, add_crud_routes
from serving.schemas.products import (
    ProductCreate,
    ProductListQuery,
    ProductOut,
    ProductPage,
    ProductPatch,
    ProductReplace,
)
from warehouse.entities.resources import PRODUCTS
from warehouse.media import images_for

bp = Blueprint("products", __name__, url_prefix="/api/v1/products")


def _with_images(records: list[dict[str, Any]]) -> list[ProductOut]:
    images = images_for(db(), tenant_id(), [r["id"] for r in records], url_signer())
    return [ProductOut.model_validate({**r, "images": images.get(r["id"], [])}) for r in records]


add_crud_routes(
    bp,
    PRODUCTS,
    CrudModels(
        ProductListQuery, ProductPage, ProductCreate, ProductReplace, ProductPatch, ProductOut
    ),
    CrudDocs(
        list="List products: filters, sort and cursor pagination.",
        create="Create a product; SKUs (variant SKUs too) must be unique in the tenant.",
        get="Show a product, with its variants and images.",
        replace="Replace a product with the fields given (created_at is kept when omitted).",
        update="Change some fields of a product (JSON merge patch).",
        delete="Delete a product; its SKUs become free.",
        bulk="Create, update and delete many products at once, with a result per item.",
    ),
    present=_with_images,
)
