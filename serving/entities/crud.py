"""The seven CRUD routes every business resource has, built once from its models and words.

Products, customers and orders differ only in their models, how a record is presented (products
carry their images) and the summaries their docs show; the views themselves are the same: parse,
authorize, call one service function, serialise. Resource-specific routes (notes, refunds,
status changes) stay in the resource's own blueprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.entities.context import call, store, write_context
from serving.entities.idempotent import idempotent
from serving.entities.listing import list_page
from serving.schemas.bulk import BulkRequest, BulkResult
from warehouse.entities import service
from warehouse.entities.resources import Resource

WRITE_ERRORS = (400, 404, 409, 422)
CREATE_ERRORS = (400, 409, 422)

Present = Callable[[list[dict[str, Any]]], list[BaseModel]]


@dataclass(frozen=True)
class CrudModels:
    """The request and response models of one resource."""

    list_query: type[BaseModel]
    page: type[BaseModel]
    create: type[BaseModel]
    replace: type[BaseModel]
    patch: type[BaseModel]
    out: type[BaseModel]


@dataclass(frozen=True)
class CrudDocs:
    """One-line summaries (the OpenAPI text) in the resource's own words."""

    list: str
    create: str
    get: str
    replace: str
    update: str
    delete: str
    bulk: str


def add_crud_routes(
    bp: Blueprint,
    resource: Resource,
    models: CrudModels,
    docs: CrudDocs,
    present: Present | None = None,
) -> None:
    """Add list, create, get, replace, update, delete and bulk routes for ``resource`` to ``bp``."""
    present = present or (lambda records: [models.out.model_validate(r) for r in records])
    key = f"{resource.contract}_id"
    item = f"/<{key}>/"
    routes = _CrudRoutes(resource, models, present, key)
    for rule, method, name, permission, spec, view, doc in (
        ("/", "GET", "list", Permission.DATA_READ,
         {"query": models.list_query, "response": models.page, "errors": (400, 422)},
         routes.list, docs.list),
        ("/", "POST", "create", Permission.DATA_WRITE,
         {"body": models.create, "response": models.out, "status": 201, "errors": CREATE_ERRORS},
         routes.create, docs.create),
        (item, "GET", "get", Permission.DATA_READ,
         {"response": models.out, "errors": (404,)}, routes.get, docs.get),
        (item, "PUT", "replace", Permission.DATA_WRITE,
         {"body": models.replace, "response": models.out, "errors": WRITE_ERRORS},
         routes.replace, docs.replace),
        (item, "PATCH", "update", Permission.DATA_WRITE,
         {"body": models.patch, "response": models.out, "errors": WRITE_ERRORS},
         routes.update, docs.update),
        (item, "DELETE", "delete", Permission.DATA_WRITE,
         {"status": 204, "errors": (404,)}, routes.delete, docs.delete),
        ("/bulk/", "POST", "bulk", Permission.DATA_WRITE,
         {"body": BulkRequest, "response": BulkResult, "errors": (400, 422)},
         routes.bulk, docs.bulk),
    ):  # fmt: skip
        endpoint = _name(view, name, resource, doc)
        view_func = require(permission)(operation(**spec)(view))
        bp.add_url_rule(rule, endpoint, view_func, methods=[method])


def _name(view: Callable, action: str, resource: Resource, doc: str) -> str:
    """Name a view like a hand-written one: ``list_products``, ``get_product``..."""
    # Endpoint names and docstrings are what url_for and the OpenAPI document show.
    noun = resource.name if action in ("list", "bulk") else resource.contract
    view.__name__ = view.__qualname__ = f"{action}_{noun}"
    view.__doc__ = doc
    return view.__name__


class _CrudRoutes:
    """The view bodies, bound to one resource (each method becomes one route)."""

    def __init__(self, resource: Resource, models: CrudModels, present: Present, key: str):
        self.resource, self.models, self.present, self.key = resource, models, present, key

    @property
    def list(self) -> Callable:
        def view(query: BaseModel) -> BaseModel:
            records, cursor = list_page(self.resource, query)
            return self.models.page(data=self.present(records), next_cursor=cursor)

        return view

    @property
    def create(self) -> Callable:
        def view(body: BaseModel) -> Response:
            def run(scope: str, key: str | None) -> tuple[BaseModel, int]:
                fields = body.model_dump(exclude_unset=True)
                record = call(service.create, write_context(scope, key), self.resource, fields)
                return self.present([record])[0], 201

            return idempotent(body, run)

        return view

    @property
    def get(self) -> Callable:
        def view(**path: str) -> BaseModel:
            return self.present([call(service.get, store(), self.resource, path[self.key])])[0]

        return view

    @property
    def replace(self) -> Callable:
        return self._write("PUT", service.replace)

    @property
    def update(self) -> Callable:
        return self._write("PATCH", service.update)

    @property
    def delete(self) -> Callable:
        def view(**path: str) -> None:
            item_id = path[self.key]
            call(service.delete, write_context(f"DELETE {item_id}"), self.resource, item_id)

        return view

    @property
    def bulk(self) -> Callable:
        def view(body: BulkRequest) -> Response:
            def run(scope: str, key: str | None) -> tuple[BulkResult, int]:
                write = write_context(scope, key)
                changes = service.bulk(write, self.resource, body.create, body.update, body.delete)
                return BulkResult.of(changes), 200

            return idempotent(body, run)

        return view

    def _write(self, method: str, change: Callable) -> Callable:
        def view(body: BaseModel, **path: str) -> BaseModel:
            item_id = path[self.key]
            fields = body.model_dump(exclude_unset=True)
            write = write_context(f"{method} {item_id}")
            return self.present([call(change, write, self.resource, item_id, fields)])[0]

        return view
