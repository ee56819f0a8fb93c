"""What the entity reader knows about each entity: lake columns, key, and its published mart.

Lake column names are the contract's (``id``, ``name``, ``address_city`` ...). A mart may rename
some (``dim_products.product_id``); :attr:`EntitySpec.renames` maps lake column -> mart column.
A mart that lacks any lake column cannot stand in for the entity (the reader then uses the lake's
own current state), so a field never silently turns null once a snapshot is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from warehouse.contracts import LAKE_ENTITIES

TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


def utc_instant(sql: str) -> str:
    """Return ``sql`` (a zone-less UTC timestamp) as an instant; on an instant, the reverse."""
    return f"timezone('UTC', {sql})"


@dataclass(frozen=True)
class EntitySpec:
    """One lake entity as the reader sees it."""

    name: str  # lake folder and CTE name: products, order_items ...
    mart: str | None = None  # the published mart holding its current rows
    renames: Mapping[str, str] = field(default_factory=dict)
    parent: str | None = None  # order_items -> orders
    link: str | None = None  # the column naming the parent's key (order_id)
    # Parent column -> the child's copy of it, taken from the same parent version at landing
    # (warehouse/contracts/shape.py).
    copies: Mapping[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the lake columns, in contract order (metadata columns excluded)."""
        return tuple(LAKE_ENTITIES[self.name].schema.names)

    @property
    def key(self) -> tuple[str, ...]:
        """Return the business key columns."""
        return LAKE_ENTITIES[self.name].key

    def mart_column(self, column: str) -> str:
        """Return the mart's name for a lake column."""
        return self.renames.get(column, column)

    def mart_expressions(self, mart_types: Mapping[str, str]) -> dict[str, str] | None:
        """Return lake column -> SQL over the mart, or None if the mart lacks a column.

        Marts keep timestamps as zone-less UTC; they are turned back into instants so that
        rows from the snapshot and from the raw zone compare and serialise alike.
        """
        expressions = {}
        for column in self.columns:
            source = self.mart_column(column)
            if source not in mart_types:
                return None
            quoted = '"' + source + '"'
            if mart_types[source].upper() in TIMESTAMP_TYPES:
                quoted = utc_instant(quoted)
            expressions[column] = quoted
        return expressions


PRODUCTS = EntitySpec("products", "dim_products", {"id": "product_id", "name": "product_name"})
CUSTOMERS = EntitySpec("customers", "dim_customers", {"id": "customer_id"})
ORDERS = EntitySpec("orders", "fct_orders", {"id": "order_id"})
ORDER_ITEMS = EntitySpec(
    "order_items",
    "fct_order_items",
    {"name": "item_name"},
    parent="orders",
    link="order_id",
    copies={"created_at": "order_created_at"},
)
REFUNDS = EntitySpec("refunds", "fct_refunds", {"id": "refund_id"})
CUSTOMER_NOTES = EntitySpec("customer_notes")

SPECS: Mapping[str, EntitySpec] = {
    spec.name: spec for spec in (PRODUCTS, CUSTOMERS, ORDERS, ORDER_ITEMS, REFUNDS, CUSTOMER_NOTES)
}


def family(spec: EntitySpec) -> tuple[EntitySpec, ...]:
    """Return the specs read together with ``spec``: a parent always comes with its children."""
    children = tuple(s for s in SPECS.values() if s.parent == spec.name)
    if spec.parent:
        return (SPECS[spec.parent], spec)
    return (spec, *children)
