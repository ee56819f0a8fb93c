"""Orders CRUD (items nested) plus status changes, status history and refunds.

Status changes follow the state machine in :mod:`warehouse.entities.orders`; each lands a new
version of the order, and ``status_history/`` reads those versions back. A refund lands a refund
record and the order's new status in one batch, never for more than is left to refund. Also
answers under ``/api/v1/tenants/<id>/orders/``. Analytics routes live in their own modules.
"""

from __future__ import annotations

from flask import Blueprint, Response

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.entities.context import call, store, write_context
from serving.entities.idempotent import idempotent
from serving.entities.listing import list_page
from serving.schemas.bulk import BulkRequest, BulkResult
from serving.schemas.orders import (
    OrderCreate,
    OrderListQuery,
    OrderOut,
    OrderPage,
    OrderPatch,
    OrderReplace,
    RefundCreate,
    RefundCreated,
    StatusHistory,
    StatusUpdate,
)
from warehouse.entities import actions, orders, service
from warehouse.entities.resources import ORDERS

bp = Blueprint("orders", __name__, url_prefix="/api/v1/orders")

WRITE_ERRORS = (400, 404, 409, 422)
CREATE_ERRORS = (400, 409, 422)


@bp.get("/")
@require(Permission.DATA_READ)
@operation(query=OrderListQuery, response=OrderPage, errors=(400, 422))
def list_orders(query: OrderListQuery) -> OrderPage:
    """List orders with their items: filters, sort and cursor pagination."""
    records, cursor = list_page(ORDERS, query)
    return OrderPage(data=[OrderOut.model_validate(r) for r in records], next_cursor=cursor)


@bp.post("/")
@require(Permission.DATA_WRITE)
@operation(body=OrderCreate, response=OrderOut, status=201, errors=CREATE_ERRORS)
def create_order(body: OrderCreate) -> Response:
    """Create an order with its items; amounts must add up exactly."""

    def run(scope: str, key: str | None) -> tuple[OrderOut, int]:
        fields = body.model_dump(exclude_unset=True)
        record = call(service.create, write_context(scope, key), ORDERS, fields)
        return OrderOut.model_validate(record), 201

    return idempotent(body, run)


@bp.get("/<order_id>/")
@require(Permission.DATA_READ)
@operation(response=OrderOut, errors=(404,))
def get_order(order_id: str) -> OrderOut:
    """Show an order with its items."""
    return OrderOut.model_validate(call(service.get, store(), ORDERS, order_id))


@bp.put("/<order_id>/")
@require(Permission.DATA_WRITE)
@operation(body=OrderReplace, response=OrderOut, errors=WRITE_ERRORS)
def replace_order(order_id: str, body: OrderReplace) -> OrderOut:
    """Replace an order and its items (a status change must be an allowed transition)."""
    fields = body.model_dump(exclude_unset=True)
    write = write_context(f"PUT {order_id}")
    return OrderOut.model_validate(call(service.replace, write, ORDERS, order_id, fields))


@bp.patch("/<order_id>/")
@require(Permission.DATA_WRITE)
@operation(body=OrderPatch, response=OrderOut, errors=WRITE_ERRORS)
def update_order(order_id: str, body: OrderPatch) -> OrderOut:
    """Change some fields of an order (JSON merge patch; `items` replace all lines)."""
    patch = body.model_dump(exclude_unset=True)
    write = write_context(f"PATCH {order_id}")
    return OrderOut.model_validate(call(service.update, write, ORDERS, order_id, patch))


@bp.delete("/<order_id>/")
@require(Permission.DATA_WRITE)
@operation(status=204, errors=(404,))
def delete_order(order_id: str) -> None:
    """Delete an order and its items."""
    call(service.delete, write_context(f"DELETE {order_id}"), ORDERS, order_id)


@bp.post("/bulk/")
@require(Permission.DATA_WRITE)
@operation(body=BulkRequest, response=BulkResult, errors=(400, 422))
def bulk_orders(body: BulkRequest) -> Response:
    """Create, update and delete many orders at once, with a result per item."""

    def run(scope: str, key: str | None) -> tuple[BulkResult, int]:
        write = write_context(scope, key)
        changes = service.bulk(write, ORDERS, body.create, body.update, body.delete)
        return BulkResult.of(changes), 200

    return idempotent(body, run)


@bp.post("/<order_id>/update_status/")
@require(Permission.DATA_WRITE)
@operation(body=StatusUpdate, response=OrderOut, errors=WRITE_ERRORS)
def update_status(order_id: str, body: StatusUpdate) -> Response:
    """Move an order to a new status, if the state machine allows it."""

    def run(scope: str, key: str | None) -> tuple[OrderOut, int]:
        order = call(actions.update_status, write_context(scope, key), order_id, body.status)
        return OrderOut.model_validate(order), 200

    return idempotent(body, run)


@bp.get("/<order_id>/status_history/")
@require(Permission.DATA_READ)
@operation(response=StatusHistory, errors=(404,))
def status_history(order_id: str) -> StatusHistory:
    """List an order's status changes, oldest first, from its landed versions."""
    history = call(orders.status_history, store(), order_id)
    return StatusHistory.model_validate({"order_id": order_id, "data": history})


@bp.post("/<order_id>/create_refund/")
@require(Permission.REFUNDS)
@operation(body=RefundCreate, response=RefundCreated, status=201, errors=WRITE_ERRORS)
def create_refund(order_id: str, body: RefundCreate) -> Response:
    """Refund part or all of an order; never more than what is left to refund."""

    def run(scope: str, key: str | None) -> tuple[RefundCreated, int]:
        request = actions.RefundRequest(**body.model_dump())
        result = call(actions.create_refund, write_context(scope, key), order_id, request)
        return RefundCreated.model_validate(result), 201

    return idempotent(body, run)
