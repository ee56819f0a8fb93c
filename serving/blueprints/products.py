"""Products CRUD: list, create, read, replace, update, delete, bulk.

Writes are small ingests through the product contract; reads combine the published snapshot
with the raw tail, so a write is visible on the next read. Also answers under
``/api/v1/tenants/<id>/products/``. Analytics routes on products live in their own modules.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.blueprints.images import url_signer
from serving.db import db
from serving.entities.context import call, store, write_context
from serving.entities.idempotent import idempotent
from serving.entities.listing import list_page
from serving.schemas.bulk import BulkRequest, BulkResult
from serving.schemas.products import (
    ProductCreate,
    ProductListQuery,
    ProductOut,
    ProductPage,
    ProductPatch,
    ProductReplace,
)
from warehouse.entities import service
from warehouse.entities.resources import PRODUCTS
from warehouse.media import images_for

bp = Blueprint("products", __name__, url_prefix="/api/v1/products")

WRITE_ERRORS = (400, 404, 409, 422)
CREATE_ERRORS = (400, 409, 422)


def _out(records: list[dict[str, Any]]) -> list[ProductOut]:
    images = images_for(db(), tenant_id(), [r["id"] for r in records], url_signer())
    return [ProductOut.model_validate({**r, "images": images.get(r["id"], [])}) for r in records]


@bp.get("/")
@require(Permission.DATA_READ)
@operation(query=ProductListQuery, response=ProductPage, errors=(400, 422))
def list_products(query: ProductListQuery) -> ProductPage:
    """List products: filters, sort and cursor pagination."""
    records, cursor = list_page(PRODUCTS, query)
    return ProductPage(data=_out(records), next_cursor=cursor)


@bp.post("/")
@require(Permission.DATA_WRITE)
@operation(body=ProductCreate, response=ProductOut, status=201, errors=CREATE_ERRORS)
def create_product(body: ProductCreate) -> Response:
    """Create a product; SKUs (variant SKUs too) must be unique in the tenant."""

    def run(scope: str, key: str | None) -> tuple[ProductOut, int]:
        fields = body.model_dump(exclude_unset=True)
        record = call(service.create, write_context(scope, key), PRODUCTS, fields)
        return _out([record])[0], 201

    return idempotent(body, run)


@bp.get("/<product_id>/")
@require(Permission.DATA_READ)
@operation(response=ProductOut, errors=(404,))
def get_product(product_id: str) -> ProductOut:
    """Show a product, with its variants and images."""
    return _out([call(service.get, store(), PRODUCTS, product_id)])[0]


@bp.put("/<product_id>/")
@require(Permission.DATA_WRITE)
@operation(body=ProductReplace, response=ProductOut, errors=WRITE_ERRORS)
def replace_product(product_id: str, body: ProductReplace) -> ProductOut:
    """Replace a product with the fields given (created_at is kept when omitted)."""
    fields = body.model_dump(exclude_unset=True)
    write = write_context(f"PUT {product_id}")
    return _out([call(service.replace, write, PRODUCTS, product_id, fields)])[0]


@bp.patch("/<product_id>/")
@require(Permission.DATA_WRITE)
@operation(body=ProductPatch, response=ProductOut, errors=WRITE_ERRORS)
def update_product(product_id: str, body: ProductPatch) -> ProductOut:
    """Change some fields of a product (JSON merge patch)."""
    patch = body.model_dump(exclude_unset=True)
    write = write_context(f"PATCH {product_id}")
    return _out([call(service.update, write, PRODUCTS, product_id, patch)])[0]


@bp.delete("/<product_id>/")
@require(Permission.DATA_WRITE)
@operation(status=204, errors=(404,))
def delete_product(product_id: str) -> None:
    """Delete a product; its SKUs become free."""
    call(service.delete, write_context(f"DELETE {product_id}"), PRODUCTS, product_id)


@bp.post("/bulk/")
@require(Permission.DATA_WRITE)
@operation(body=BulkRequest, response=BulkResult, errors=(400, 422))
def bulk_products(body: BulkRequest) -> Response:
    """Create, update and delete many products at once, with a result per item."""

    def run(scope: str, key: str | None) -> tuple[BulkResult, int]:
        write = write_context(scope, key)
        changes = service.bulk(write, PRODUCTS, body.create, body.update, body.delete)
        return BulkResult.of(changes), 200

    return idempotent(body, run)
