"""Field-level checks, run column-wise on the wire table for both decoding paths.

Required fields, integer bounds, text lengths, enum values, currency / email / country formats,
timestamps and JSON objects are all checked with Arrow kernels; only failing elements are
touched from Python (to report their row and dotted path).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.contracts import timestamps
from warehouse.contracts.arrowutil import column, list_lengths, true_indices
from warehouse.contracts.countries import COUNTRIES
from warehouse.contracts.fields import TEXT_MAX_CHARS, Field
from warehouse.contracts.levels import Findings, Level, ListLevel, ObjectLevel
from warehouse.money import CURRENCIES

TAG_MAX_CHARS = 256
EMAIL = r"^[^@\s]+@[^@\s.][^@\s]*\.[^@\s.]+$"

_CURRENCY_SET = pa.array(sorted(CURRENCIES), pa.string())
_COUNTRY_SET = pa.array(sorted(COUNTRIES), pa.string())


def check_table(table: pa.Table, fields: tuple[Field, ...], findings: Findings) -> dict:
    """Check every field of every row; return the parsed top-level timestamp columns."""
    parsed: dict[str, pa.Array] = {}
    level = Level()
    for field in fields:
        values = column(table, field.name)
        _check(values, field, level, findings)
        if field.kind == "ts":
            parsed[field.name], bad = timestamps.parse(values)
            if bad is not None:
                findings.flag(true_indices(bad), level, field.name, timestamps.REASON)
    return parsed


def _check(values: pa.Array, field: Field, level: Level, findings: Findings) -> None:
    name = field.name
    if field.required:
        findings.flag(true_indices(pc.is_null(values)), level, name, "required")
    if field.kind == "int":
        _bounds(values, field, level, findings)
    elif field.kind == "str":
        _text(values, field, level, findings)
    elif field.kind == "json":
        not_object = pc.invert(pc.starts_with(values, "{"))
        findings.flag(true_indices(not_object), level, name, "must be a JSON object")
        too_big = true_indices(pc.greater(pc.binary_length(values), TEXT_MAX_CHARS))
        findings.flag(too_big, level, name, f"must be at most {TEXT_MAX_CHARS} bytes of JSON")
    elif field.kind in ("tags", "list", "attrs"):
        _list(values, field, level, findings)
    elif field.kind == "object":
        inner = ObjectLevel(level, name)
        for index, child in enumerate(field.children):
            _check(pc.struct_field(values, [index]), child, inner, findings)


def _bounds(values: pa.Array, field: Field, level: Level, findings: Findings) -> None:
    if field.ge is not None:
        low = true_indices(pc.less(values, field.ge))
        findings.flag(low, level, field.name, f"must be >= {field.ge}")
    if field.le is not None:
        high = true_indices(pc.greater(values, field.le))
        findings.flag(high, level, field.name, f"must be <= {field.le}")


def _text(values: pa.Array, field: Field, level: Level, findings: Findings) -> None:
    name = field.name
    if field.min_len is not None or field.max_len is not None:
        length = pc.utf8_length(values)
        if field.min_len is not None:
            short = true_indices(pc.less(length, field.min_len))
            findings.flag(short, level, name, f"must have at least {field.min_len} character(s)")
        if field.max_len is not None:
            long = true_indices(pc.greater(length, field.max_len))
            findings.flag(long, level, name, f"must have at most {field.max_len} characters")
    if field.choices:
        outside = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, pa.array(field.choices))))
        findings.flag(
            true_indices(outside), level, name, f"must be one of {', '.join(field.choices)}"
        )
    if field.fmt:
        _format(values, field, level, findings)


def _format(values: pa.Array, field: Field, level: Level, findings: Findings) -> None:
    if field.fmt == "email":
        wrong = pc.invert(pc.match_substring_regex(values, EMAIL))
        reason = "must be an email address"
    else:
        known = _CURRENCY_SET if field.fmt == "currency" else _COUNTRY_SET
        wrong = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, known)))
        reason = (
            "must be an active ISO 4217 currency code (upper case, e.g. EUR)"
            if field.fmt == "currency"
            else "must be an ISO 3166-1 alpha-2 country code (upper case, e.g. DE)"
        )
    findings.flag(true_indices(wrong), level, field.name, reason)


def _list(values: pa.Array, field: Field, level: Level, findings: Findings) -> None:
    name = field.name
    if field.min_len is not None or field.max_len is not None:
        count = list_lengths(values)
        if field.min_len is not None:
            few = pc.and_(pc.is_valid(values), pc.less(count, field.min_len))
            findings.flag(
                true_indices(few), level, name, f"must have at least {field.min_len} item(s)"
            )
        if field.max_len is not None:
            many = true_indices(pc.greater(count, field.max_len))
            findings.flag(many, level, name, f"must have at most {field.max_len} items")
    if field.kind == "attrs":
        return
    inner = ListLevel(level, name, values)
    flat = pc.list_flatten(values)
    if field.kind == "tags":
        findings.flag(true_indices(pc.is_null(flat)), inner, "", "must not be null")
        too_long = true_indices(pc.greater(pc.utf8_length(flat), TAG_MAX_CHARS))
        findings.flag(too_long, inner, "", f"must have at most {TAG_MAX_CHARS} characters")
        return
    findings.flag(true_indices(pc.is_null(flat)), inner, "", "must be an object")
    for index, child in enumerate(field.children):
        _check(pc.struct_field(flat, [index]), child, inner, findings)
