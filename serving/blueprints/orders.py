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
from serving.entities.crud import WRITE_ERRORS, CrudDocs, CrudModels, add_crud_routes
from serving.entities.idempotent import idempotent
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
from warehouse.entities import actions, orders
from warehouse.entities.resources import ORDERS

bp = Blueprint("orders", __name__, url_prefix="/api/v1/orders")

add_crud_routes(
    bp,
    ORDERS,
    CrudModels(OrderListQuery, OrderPage, OrderCreate, OrderReplace, OrderPatch, OrderOut),
    CrudDocs(
        list="List orders with their items: filters, sort and cursor pagination.",
        create="Create an order with its items; amounts must add up exactly.",
        get="Show an order with its items.",
        replace="Replace an order and its items (a status change must be an allowed transition).",
        update="Change some fields of an order (JSON merge patch; `items` replace all lines).",
        delete="Delete an order and its items.",
        bulk="Create, update and delete many orders at once, with a result per item.",
    ),
)


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
