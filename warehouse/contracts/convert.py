"""Turn decoded msgspec Structs into Arrow arrays column by column (the per-line path).

Values are pulled out with ``operator.attrgetter`` one field at a time and handed to Arrow as a
list, so there is no per-row dict; nested objects and lists become struct and list arrays built
from flattened children plus offsets.
"""

from __future__ import annotations

from itertools import accumulate
from operator import attrgetter
from typing import Any

import msgspec
import pyarrow as pa

from warehouse.contracts.fields import Field, arrow_type

_NULL_JSON = b"null"


def table_from_structs(
    structs: list[Any], fields: tuple[Field, ...], schema: pa.Schema
) -> pa.Table:
    """Build the wire table (``schema``) from decoded records."""
    arrays = [to_array(list(map(attrgetter(f.name), structs)), f) for f in fields]
    return pa.Table.from_arrays(arrays, schema=schema)


def to_array(values: list[Any], field: Field) -> pa.Array:
    """Convert one field's values (``None`` for null) into an Arrow array of its wire type."""
    kind = field.kind
    if kind in ("str", "ts", "int", "bool"):
        return pa.array(values, arrow_type(field))
    if kind == "json":
        return _json_array(values)
    if kind == "tags":
        return _list_array(values, pa.array(_flat(values), pa.string()), arrow_type(field))
    if kind == "attrs":
        return _map_array(values)
    if kind == "object":
        return _struct_array(values, field)
    flat = _flat(values)
    child = _struct_array(flat, field)
    return _list_array(values, child, arrow_type(field))


def _flat(values: list[Any]) -> list[Any]:
    return [item for value in values if value for item in value]


def _offsets(values: list[Any]) -> pa.Array:
    lengths = (len(v) if v else 0 for v in values)
    return pa.array(list(accumulate(lengths, initial=0)), pa.int32())


def _mask(values: list[Any]) -> pa.Array | None:
    if None not in values:
        return None
    return pa.array([v is None for v in values], pa.bool_())


def _list_array(values: list[Any], child: pa.Array, type_: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(_offsets(values), child, type=type_, mask=_mask(values))


def _struct_array(values: list[Any], field: Field) -> pa.Array:
    present = [v is not None for v in values]
    children = []
    for child in field.children:
        getter = attrgetter(child.name)
        children.append(to_array([getter(v) if v is not None else None for v in values], child))
    member_type = arrow_type(field) if field.kind == "object" else arrow_type(field).value_type
    mask = None if all(present) else pa.array([not p for p in present], pa.bool_())
    return pa.StructArray.from_arrays(children, fields=list(member_type), mask=mask)


def _map_array(values: list[dict[str, str] | None]) -> pa.Array:
    keys = [k for d in values if d for k in d]
    items = [v for d in values if d for v in d.values()]
    return pa.MapArray.from_arrays(
        _offsets(values),
        pa.array(keys, pa.string()),
        pa.array(items, pa.string()),
        type=pa.map_(pa.string(), pa.string()),
        mask=_mask(values),
    )


def _json_array(values: list[msgspec.Raw | None]) -> pa.Array:
    # An absent field decodes to None and an explicit JSON null to Raw(b"null"): both are null.
    raw = [None if v is None else bytes(v) for v in values]
    cleaned = [None if v is None or v == _NULL_JSON else v for v in raw]
    return pa.array(cleaned, pa.binary()).cast(pa.string())
