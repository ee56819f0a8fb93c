"""The three CRUD resources: their contract, unique values, id prefix, and reads in API shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from warehouse.entities import reader
from warehouse.entities.records import orders_with_items, to_api
from warehouse.entities.sources import Store


@dataclass(frozen=True)
class Resource:
    """A CRUD resource backed by one contract."""

    name: str  # lake entity and URL segment: products, customers, orders
    contract: str  # product, customer, order
    id_prefix: str  # for ids the server generates
    unique_kind: str | None = None  # claim kind of its unique values (sku, email)

    def unique_fields(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Return (field path, value) for each value a lake row holds exclusively in its tenant.

        A product's SKU and its variants' SKUs share one namespace.
        """
        if self.name == "products":
            variants = row.get("variants") or []
            return [("sku", row["sku"])] + [
                (f"variants.{i}.sku", variant["sku"]) for i, variant in enumerate(variants)
            ]
        if self.name == "customers":
            return [("email", row["email"])]
        return []

    def unique_values(self, row: Mapping[str, Any]) -> set[str]:
        """Return the set of a lake row's unique values."""
        return {value for _field, value in self.unique_fields(row)}


PRODUCTS = Resource("products", "product", "prod_", "sku")
CUSTOMERS = Resource("customers", "customer", "cus_", "email")
ORDERS = Resource("orders", "order", "ord_")
RESOURCES = {r.name: r for r in (PRODUCTS, CUSTOMERS, ORDERS)}


def fetch(store: Store, resource: Resource, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Return the current API records of some ids (missing ids are left out)."""
    rows = reader.by_keys(store, resource.name, list(ids))
    if resource is ORDERS:
        items = reader.by_keys(store, "order_items", [row["id"] for row in rows])
        return {order["id"]: order for order in orders_with_items(rows, items)}
    return {row["id"]: to_api(resource.name, row) for row in rows}


def fetch_one(store: Store, resource: Resource, record_id: str) -> dict[str, Any] | None:
    """Return one current API record, or None."""
    return fetch(store, resource, [record_id]).get(record_id)


def from_tables(resource: Resource, tables: Mapping[str, pa.Table]) -> dict[str, dict[str, Any]]:
    """Return the API records of validated lake tables, by id."""
    rows = tables[resource.name].to_pylist()
    if resource is ORDERS:
        items = tables["order_items"].to_pylist()
        return {order["id"]: order for order in orders_with_items(rows, items)}
    return {row["id"]: to_api(resource.name, row) for row in rows}


def holders(store: Store, resource: Resource, values: Iterable[str]) -> dict[str, set[str]]:
    """Return, per value, the ids of live records holding it (for the uniqueness check)."""
    wanted = sorted(set(values))
    if resource.unique_kind is None or not wanted:
        return {}

    def build(query) -> str:
        bound = query.bind("wanted", wanted)
        if resource is PRODUCTS:
            return (
                "select id, sku, variants from products where list_contains("
                f"{bound}, sku) or list_has_any({bound}, "
                "list_transform(coalesce(variants, []), lambda v: v.sku))"
            )
        return f"select id, email from customers where list_contains({bound}, email)"

    found: dict[str, set[str]] = {}
    for row in reader.select(store, resource.name, build):
        for value in resource.unique_values(row) & set(wanted):
            found.setdefault(value, set()).add(row["id"])
    return found


def existing_ids(store: Store, entity: str, ids: Iterable[str]) -> set[str]:
    """Return which of ``ids`` are live records of ``entity``."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    rows = reader.select(store, entity, lambda q: f'select id from "{entity}"', wanted)
    return {row["id"] for row in rows}
