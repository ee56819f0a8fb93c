"""Declarative field specs: one list per contract drives decoding, Arrow types and checks.

A :class:`Field` says what a record field may hold on the wire. From the same list we derive
the msgspec Struct used on the slow (per-line) path, the Arrow schema used by the columnar
reader on the fast path, and the vectorised checks in :mod:`warehouse.contracts.checks`, so the
three can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import pyarrow as pa

Kind = Literal["str", "int", "bool", "ts", "json", "tags", "attrs", "object", "list"]
Format = Literal["currency", "email", "country"]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ID_MAX_CHARS = 128
TEXT_MAX_CHARS = 65_536


@dataclass(frozen=True)
class Field:
    """One wire field: its kind, whether it is required, its default and its constraints.

    ``min_len``/``max_len`` count characters for strings and elements for lists; ``children``
    describe the members of ``object`` and the elements of ``list`` fields.
    """

    name: str
    kind: Kind
    required: bool = False
    default: Any = None
    ge: int | None = None
    le: int | None = None
    min_len: int | None = None
    max_len: int | None = None
    choices: tuple[str, ...] = ()
    fmt: Format | None = None
    children: tuple[Field, ...] = ()


def req(name: str, kind: Kind, **options: Any) -> Field:
    """Declare a required field (for text: present and non-empty)."""
    if kind == "str":
        options.setdefault("min_len", 1)
    return Field(name, kind, required=True, **_with_limits(name, kind, options))


def opt(name: str, kind: Kind, **options: Any) -> Field:
    """Declare an optional field (null or absent means ``default``)."""
    return Field(name, kind, **_with_limits(name, kind, options))


def _with_limits(name: str, kind: Kind, options: dict[str, Any]) -> dict[str, Any]:
    # Identifiers are bounded so keys stay cheap to sort and index; free text is bounded so a
    # single row cannot blow up a batch.
    if kind == "str" and "max_len" not in options:
        is_id = name == "id" or name.endswith("_id") or name == "sku"
        options["max_len"] = ID_MAX_CHARS if is_id else TEXT_MAX_CHARS
    return options


def arrow_type(field: Field) -> pa.DataType:
    """Return the Arrow type a field has on the wire (timestamps still as text)."""
    scalar = {
        "str": pa.string(),
        "ts": pa.string(),
        "json": pa.string(),
        "int": pa.int64(),
        "bool": pa.bool_(),
    }
    if field.kind in scalar:
        return scalar[field.kind]
    if field.kind == "tags":
        return pa.list_(pa.string())
    if field.kind == "attrs":
        return pa.map_(pa.string(), pa.string())
    members = pa.struct([pa.field(c.name, arrow_type(c)) for c in field.children])
    return members if field.kind == "object" else pa.list_(members)


def wire_schema(fields: tuple[Field, ...]) -> pa.Schema:
    """Return the Arrow schema of a contract's wire records."""
    return pa.schema([pa.field(f.name, arrow_type(f)) for f in fields])


def columnar_readable(fields: tuple[Field, ...]) -> bool:
    """Return whether Arrow's JSON reader can read these fields (no free-form JSON or maps)."""
    return all(f.kind not in ("json", "attrs") and columnar_readable(f.children) for f in fields)


_Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]


def _msgspec_type(field: Field) -> Any:
    if field.kind in ("str", "ts"):
        return str
    if field.kind == "int":
        return _Int64
    if field.kind == "bool":
        return bool
    if field.kind == "json":
        return msgspec.Raw
    # Null list elements pass here and are refused column-wise, as on the Arrow path.
    if field.kind == "tags":
        return tuple[str | None, ...]
    if field.kind == "attrs":
        return dict[str, str]
    struct = struct_type(field.name.title().replace("_", ""), field.children)
    return struct if field.kind == "object" else tuple[struct | None, ...]


def struct_type(name: str, fields: tuple[Field, ...]) -> type[msgspec.Struct]:
    """Build the msgspec Struct that checks JSON syntax, types and unknown fields of a record.

    Every field is optional here: required fields, bounds and formats are checked column-wise
    afterwards, identically for both decoding paths. ``gc=False`` (the records hold no cycles)
    roughly doubles decoding speed, and tuples instead of lists keep the GC out of it too.
    """
    members = []
    for field in fields:
        kind = _msgspec_type(field)
        members.append((field.name, kind if field.kind == "json" else kind | None, None))
    return msgspec.defstruct(name, members, forbid_unknown_fields=True, gc=False)
