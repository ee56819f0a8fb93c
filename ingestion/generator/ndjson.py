"""Encode Arrow record batches as NDJSON bytes without a Python loop over rows.

Each column becomes JSON text with Arrow kernels, and a row is one element-wise join of those
columns with the constant text between them (`{"id":"`, `","type":"`, ...). Constant text is
folded into as few literals as possible: a non-null string column needs no quoting pass, its
quotes travel in the neighbouring literals; lists and structs likewise leave their brackets
to the parent. Timestamps with a time zone are written in that zone with its offset (RFC 3339).
String fields whose metadata has ``json=raw`` already hold JSON text and are embedded as is.

`fragments` + `lines` is the slower per-field path used when rows are damaged on purpose.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generator.timefmt import rfc3339, utc_offsets

RAW_JSON = {b"json": b"raw"}
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\t", "\\t"), ("\r", "\\r"))

# JSON text, plus the constant text that must surround it ('"' for a bare string).
Piece = tuple[pa.Array, str, str]


def raw_json_field(name: str) -> pa.Field:
    """Return a string field whose values are embedded as JSON text, not quoted."""
    return pa.field(name, pa.string(), metadata=RAW_JSON)


def _escape(values: pa.Array) -> pa.Array:
    # Generated text holds no control characters other than newline, tab and CR.
    data = values.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    if not ((raw == 34).any() or (raw == 92).any() or (raw < 32).any()):
        return values
    for raw, escaped in _ESCAPES:
        values = pc.replace_substring(values, raw, escaped)
    return values


def _nullable(values: pa.Array, piece: Piece) -> Piece:
    """Wrap a piece into self-contained text, "null" where the value is null."""
    if not values.null_count:
        return piece
    text = materialise(piece)
    return pc.if_else(values.is_valid(), text, pa.scalar("null")), "", ""


def materialise(piece: Piece) -> pa.Array:
    """Return the piece as complete JSON text per row."""
    text, opening, closing = piece
    if not opening and not closing:
        return text
    return pc.binary_join_element_wise(pa.scalar(opening), text, pa.scalar(closing), "")


def _timestamps(values: pa.Array) -> Piece:
    micros = values.cast(pa.int64()).fill_null(0).to_numpy()
    seconds = micros // 1_000_000
    text = rfc3339(seconds, utc_offsets(values.type.tz or "UTC", seconds), quoted=True)
    return _nullable(values, (text, "", ""))


def _list(values: pa.Array, items: pa.Array, opening: str, closing: str) -> Piece:
    grouped = pa.ListArray.from_arrays(values.offsets, items)
    return _nullable(values, (pc.binary_join(grouped, ","), opening, closing))


def piece(values: pa.Array, field: pa.Field | None = None) -> Piece:
    """Return a column as JSON text plus the constant text around it."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if field is not None and field.metadata == RAW_JSON:
        return values.fill_null("null"), "", ""
    if pa.types.is_timestamp(kind):
        return _timestamps(values)
    if pa.types.is_string(kind):
        return _nullable(values, (_escape(values), '"', '"'))
    if pa.types.is_boolean(kind):
        text = pc.if_else(values, pa.scalar("true"), pa.scalar("false"))
        return text.fill_null("null"), "", ""
    if pa.types.is_integer(kind):
        return pc.cast(values, pa.string()).fill_null("null"), "", ""
    if pa.types.is_map(kind):
        pairs = members_join([(materialise(piece(values.keys)), "", ":"),
                              piece(values.items)], None)  # fmt: skip
        return _list(values, pairs, "{", "}")
    if pa.types.is_list(kind):
        items = materialise(piece(values.values, kind.value_field))
        return _list(values, items, "[", "]")
    if pa.types.is_struct(kind):
        fields = [kind.field(i) for i in range(kind.num_fields)]
        parts = [piece(values.field(i), f) for i, f in enumerate(fields)]
        return _nullable(values, (members_join(parts, [f.name for f in fields]), "{", "}"))
    raise TypeError(f"cannot encode Arrow type {kind} as JSON")


def members_join(
    pieces: list[Piece], names: list[str] | None, lead: str = "", tail: str = ""
) -> pa.Array:
    """Join pieces in one pass, as ``"name":value`` members (or plainly, without names)."""
    parts: list = []
    literal = lead
    for i, (text, opening, closing) in enumerate(pieces):
        if names is not None:
            literal += ("," if i else "") + json.dumps(names[i]) + ":"
        parts += [pa.scalar(literal + opening), text]
        literal = closing
    parts.append(pa.scalar(literal + tail))
    return pc.binary_join_element_wise(*parts, "")


def _contiguous_bytes(text: pa.Array) -> memoryview:
    # The joined rows already sit back to back in the data buffer: hand it out without a copy.
    _, offsets, data = text.buffers()
    if not len(text):
        return memoryview(b"")
    bounds = np.frombuffer(offsets, dtype=np.int32)[text.offset : text.offset + len(text) + 1]
    return memoryview(data[int(bounds[0]) : int(bounds[-1])])


def encode_batch(batch: pa.RecordBatch) -> memoryview:
    """Return the batch as NDJSON bytes, one object per row, keys in schema order."""
    pieces = [piece(c, f) for f, c in zip(batch.schema, batch.columns, strict=True)]
    return _contiguous_bytes(members_join(pieces, batch.schema.names, "{", "}\n"))


def fragments(batch: pa.RecordBatch) -> list[pa.Array]:
    """Return one complete ``"name":value`` column per field, for per-field damage."""
    out = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        text, opening, closing = piece(column, field)
        out.append(materialise((text, json.dumps(field.name) + ":" + opening, closing)))
    return out


def lines(parts: list[pa.Array]) -> memoryview:
    """Join fragment columns into NDJSON bytes; null fragments (dropped fields) are skipped."""
    body = pc.binary_join_element_wise(*parts, ",", null_handling="skip")
    text = pc.binary_join_element_wise(pa.scalar("{"), body, pa.scalar("}\n"), "")
    return _contiguous_bytes(text)
