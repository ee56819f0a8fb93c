"""Customers CRUD plus notes: list, create, read, replace, update, delete, bulk, add_note.

Writes go through the customer contract (emails are stored lower-cased and unique in the
tenant); reads see them at once. Also answers under ``/api/v1/tenants/<id>/customers/``.
Analytics routes on customers live in their own modules.
"""

from __future__ import annotations

from flask import Blueprint, Response

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.entities.context import author, call, store, write_context
from serving.entities.idempotent import idempotent
from serving.entities.listing import list_page
from serving.schemas.bulk import BulkRequest, BulkResult
from serving.schemas.customers import (
    CustomerCreate,
    CustomerListQuery,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerReplace,
    NoteCreate,
    NoteOut,
)
from warehouse.entities import actions, service
from warehouse.entities.resources import CUSTOMERS

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")

WRITE_ERRORS = (400, 404, 409, 422)
CREATE_ERRORS = (400, 409, 422)


@bp.get("/")
@require(Permission.DATA_READ)
@operation(query=CustomerListQuery, response=CustomerPage, errors=(400, 422))
def list_customers(query: CustomerListQuery) -> CustomerPage:
    """List customers: filters, sort and cursor pagination."""
    records, cursor = list_page(CUSTOMERS, query)
    return CustomerPage(data=[CustomerOut.model_validate(r) for r in records], next_cursor=cursor)


@bp.post("/")
@require(Permission.DATA_WRITE)
@operation(body=CustomerCreate, response=CustomerOut, status=201, errors=CREATE_ERRORS)
def create_customer(body: CustomerCreate) -> Response:
    """Create a customer; the email must be unique in the tenant."""

    def run(scope: str, key: str | None) -> tuple[CustomerOut, int]:
        fields = body.model_dump(exclude_unset=True)
        record = call(service.create, write_context(scope, key), CUSTOMERS, fields)
        return CustomerOut.model_validate(record), 201

    return idempotent(body, run)


@bp.get("/<customer_id>/")
@require(Permission.DATA_READ)
@operation(response=CustomerOut, errors=(404,))
def get_customer(customer_id: str) -> CustomerOut:
    """Show a customer."""
    return CustomerOut.model_validate(call(service.get, store(), CUSTOMERS, customer_id))


@bp.put("/<customer_id>/")
@require(Permission.DATA_WRITE)
@operation(body=CustomerReplace, response=CustomerOut, errors=WRITE_ERRORS)
def replace_customer(customer_id: str, body: CustomerReplace) -> CustomerOut:
    """Replace a customer with the fields given (created_at is kept when omitted)."""
    fields = body.model_dump(exclude_unset=True)
    write = write_context(f"PUT {customer_id}")
    return CustomerOut.model_validate(call(service.replace, write, CUSTOMERS, customer_id, fields))


@bp.patch("/<customer_id>/")
@require(Permission.DATA_WRITE)
@operation(body=CustomerPatch, response=CustomerOut, errors=WRITE_ERRORS)
def update_customer(customer_id: str, body: CustomerPatch) -> CustomerOut:
    """Change some fields of a customer (JSON merge patch; `address` merges)."""
    patch = body.model_dump(exclude_unset=True)
    write = write_context(f"PATCH {customer_id}")
    return CustomerOut.model_validate(call(service.update, write, CUSTOMERS, customer_id, patch))


@bp.delete("/<customer_id>/")
@require(Permission.DATA_WRITE)
@operation(status=204, errors=(404,))
def delete_customer(customer_id: str) -> None:
    """Delete a customer; the email becomes free (their orders are kept)."""
    call(service.delete, write_context(f"DELETE {customer_id}"), CUSTOMERS, customer_id)


@bp.post("/bulk/")
@require(Permission.DATA_WRITE)
@operation(body=BulkRequest, response=BulkResult, errors=(400, 422))
def bulk_customers(body: BulkRequest) -> Response:
    """Create, update and delete many customers at once, with a result per item."""

    def run(scope: str, key: str | None) -> tuple[BulkResult, int]:
        write = write_context(scope, key)
        changes = service.bulk(write, CUSTOMERS, body.create, body.update, body.delete)
        return BulkResult.of(changes), 200

    return idempotent(body, run)


@bp.post("/<customer_id>/add_note/")
@require(Permission.NOTES)
@operation(body=NoteCreate, response=NoteOut, status=201, errors=WRITE_ERRORS)
def add_note(customer_id: str, body: NoteCreate) -> Response:
    """Attach a note to a customer (lands a customer_note record)."""

    def run(scope: str, key: str | None) -> tuple[NoteOut, int]:
        write = write_context(scope, key)
        note = call(actions.add_note, write, customer_id, body.body, body.author or author())
        return NoteOut.model_validate(note), 201

    return idempotent(body, run)
