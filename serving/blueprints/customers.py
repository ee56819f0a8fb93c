"""Customers CRUD plus notes: list, create, read, replace, update, delete, bulk, add_note.

Writes go through the customer contract (emails are stored lower-cased and unique in the
tenant); reads see them at once. Also answers under ``/api/v1/tenants/<id>/customers/``.
Analytics routes on customers live in their own modules.
"""

from __future__ import annotations

from flask import Blueprint, Response

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.entities.context import author, call, write_context
from serving.entities.crud import WRITE_ERRORS, CrudDocs, CrudModels, add_crud_routes
from serving.entities.idempotent import idempotent
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
from warehouse.entities import actions
from warehouse.entities.resources import CUSTOMERS

bp = Blueprint("customers", __name__, url_prefix="/api/v1/customers")

add_crud_routes(
    bp,
    CUSTOMERS,
    CrudModels(
        CustomerListQuery,
        CustomerPage,
        CustomerCreate,
        CustomerReplace,
        CustomerPatch,
        CustomerOut,
    ),
    CrudDocs(
        list="List customers: filters, sort and cursor pagination.",
        create="Create a customer; the email must be unique in the tenant.",
        get="Show a customer.",
        replace="Replace a customer with the fields given (created_at is kept when omitted).",
        update="Change some fields of a customer (JSON merge patch; `address` merges).",
        delete="Delete a customer; the email becomes free (their orders are kept).",
        bulk="Create, update and delete many customers at once, with a result per item.",
    ),
)


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
