"""Turn validated wire records into lake tables (one per lake entity), column-wise.

Lake shape, per contract: timestamps are UTC ``timestamp[us]``; nested single objects are
flattened into prefixed columns (``payment.provider`` -> ``payment_provider``, ``address.city``
-> ``address_city``) because analysts query them in SQL; lists of scalars stay lists (``tags``);
product ``variants`` stay a list of structs; order ``items`` become the ``order_items`` entity;
optional fields with a default get it; emails are lower-cased; free-form JSON stays JSON text.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.contracts.arrowutil import TIMESTAMP, column, list_positions
from warehouse.contracts.fields import Field


def flatten(table: pa.Table, fields: tuple[Field, ...], skip: tuple[str, ...] = ()) -> pa.Table:
    """Return the lake columns of a record table, nested objects flattened, defaults applied."""
    names: list[str] = []
    arrays: list[pa.Array] = []
    for field in fields:
        if field.name in skip:
            continue
        values = column(table, field.name)
        if field.kind == "object":
            for index, child in enumerate(field.children):
                names.append(f"{field.name}_{child.name}")
                arrays.append(_with_default(pc.struct_field(values, [index]), child))
            continue
        names.append(field.name)
        arrays.append(_with_default(values, field))
    return pa.Table.from_arrays(arrays, names=names)


def _with_default(values: pa.Array, field: Field) -> pa.Array:
    if field.kind == "ts" and values.type != TIMESTAMP:
        values = values.cast(TIMESTAMP)
    if field.default is not None and values.null_count:
        values = values.fill_null(pa.scalar(field.default, values.type))
    return values


def records(fields: tuple[Field, ...], entity: str):
    """Return a shaper for a single-entity contract."""

    def shape(table: pa.Table) -> dict[str, pa.Table]:
        return {entity: flatten(table, fields)}

    return shape


def customers(fields: tuple[Field, ...]):
    """Return the customer shaper: flattened address, lower-cased email."""

    def shape(table: pa.Table) -> dict[str, pa.Table]:
        lake = flatten(table, fields)
        index = lake.schema.get_field_index("email")
        return {"customers": lake.set_column(index, "email", pc.utf8_lower(lake.column(index)))}

    return shape


ITEM_COLUMNS = (
    "product_id",
    "variant_id",
    "sku",
    "name",
    "quantity",
    "unit_price_minor",
    "discount_minor",
)


def orders(fields: tuple[Field, ...]):
    """Return the order shaper: ``orders`` without items, plus one ``order_items`` row per item."""
    item_fields = {f.name: f for f in next(f for f in fields if f.name == "items").children}

    def shape(table: pa.Table) -> dict[str, pa.Table]:
        items = column(table, "items")
        parents, positions = list_positions(items)
        flat = pc.list_flatten(items)
        parent_columns = {
            "order_id": column(table, "id"),
            "currency": column(table, "currency"),
            "order_created_at": column(table, "created_at").cast(TIMESTAMP),
        }
        lines = {
            "order_id": pc.take(parent_columns["order_id"], parents),
            "line_number": pc.add(positions, 1),
        }
        for name in ITEM_COLUMNS:
            lines[name] = _with_default(pc.struct_field(flat, [name]), item_fields[name])
        lines["currency"] = pc.take(parent_columns["currency"], parents)
        lines["order_created_at"] = pc.take(parent_columns["order_created_at"], parents)
        return {
            "orders": flatten(table, fields, skip=("items",)),
            "order_items": pa.table(lines),
        }

    return shape
