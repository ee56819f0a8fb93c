"""Between lake rows and API records: nest what the lake flattens, and back again for writes.

The API shape is the contract's wire shape (``address`` and ``payment`` objects, order ``items``,
variant ``attributes`` as an object, RFC 3339 UTC timestamps) plus ``line_number`` on items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

NESTED = {"customers": ("address",), "orders": ("payment",)}
ITEM_FIELDS = (
    "line_number",
    "product_id",
    "variant_id",
    "sku",
    "name",
    "quantity",
    "unit_price_minor",
    "discount_minor",
)
# Structs sort field by field and an order's line numbers are unique, so sorting the list puts
# the lines in line order: cheaper than an ordered aggregate, which keeps a sort per order.
_ITEMS = "list_sort(list(struct_pack(" + ", ".join(f"{f} := {f}" for f in ITEM_FIELDS) + ")))"


def items_of(orders: str) -> str:
    """Return SQL of ``(order_id, items)`` for the orders of CTE ``orders``: their API lines.

    Only those orders' rows of the ``order_items`` CTE are aggregated, in line order, so the
    cost follows the page, not the tenant.
    """
    return (
        f"(select order_id, {_ITEMS} as items from order_items "
        f"where order_id in (select id from {orders}) group by order_id)"
    )


def utc(value: datetime | None) -> datetime | None:
    """Return an aware datetime in ``datetime.UTC`` (DuckDB and Arrow hand back ZoneInfo)."""
    return value.astimezone(UTC) if value is not None else None


def to_api(entity: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the API record of one lake row of ``entity`` (products, customers, orders ...)."""
    record: dict[str, Any] = {}
    prefixes = NESTED.get(entity, ())
    for column, value in row.items():
        if column.startswith("_"):
            continue
        prefix = next((p for p in prefixes if column.startswith(p + "_")), None)
        if prefix is not None:
            record.setdefault(prefix, {})[column[len(prefix) + 1 :]] = value
        elif isinstance(value, datetime):
            record[column] = utc(value)
        else:
            record[column] = value
    for prefix in prefixes:
        if prefix in record and all(v is None for v in record[prefix].values()):
            record[prefix] = None
    if "tags" in record:
        record["tags"] = record["tags"] or []
    if entity == "products":
        record["variants"] = [_variant(v) for v in record.get("variants") or []]
    return record


def _variant(variant: Mapping[str, Any]) -> dict[str, Any]:
    attributes = variant.get("attributes")
    # DuckDB returns a map as a dict, Arrow as a list of (key, value) pairs.
    return {**variant, "attributes": dict(attributes) if attributes is not None else None}


def item_to_api(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the API form of one order line."""
    return {name: row[name] for name in ITEM_FIELDS}


def orders_with_items(
    orders: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Return API orders, each with its lines (by line number) nested as ``items``."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(items, key=lambda r: (r["order_id"], r["line_number"])):
        lines.setdefault(row["order_id"], []).append(item_to_api(row))
    return [{**to_api("orders", row), "items": lines.get(row["id"], [])} for row in orders]


def to_wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return an API record as a contract record: timestamps as text, nulls and extras dropped."""
    wire: dict[str, Any] = {}
    for name, value in record.items():
        if value is None or name == "line_number":
            continue
        if isinstance(value, datetime):
            wire[name] = value.isoformat()
        elif isinstance(value, Mapping):
            nested = to_wire(value)
            if nested:
                wire[name] = nested
        elif isinstance(value, list):
            wire[name] = [to_wire(v) if isinstance(v, Mapping) else v for v in value]
        else:
            wire[name] = value
    return wire


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a JSON merge patch (RFC 7396): objects merge, null removes, lists replace."""
    merged = dict(target)
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, Mapping):
            current = merged.get(name)
            merged[name] = merge_patch(current if isinstance(current, Mapping) else {}, value)
        else:
            merged[name] = value
    return merged
