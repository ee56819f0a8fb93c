"""Deliberately invalid rows for ingestion tests: each damages one field of an otherwise good row.

Kinds: a wrong JSON type, a missing required field, an unknown currency, order totals that do
not add up, an unparseable timestamp, a negative amount or quantity. Every damage is one that a
contract must reject however lenient its parsing (no "12" for 12, no "XXX" for a currency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

KINDS = ("wrong_type", "missing_field", "bad_currency", "bad_totals", "bad_timestamp", "negative")
_BAD_TIMES = ("2024-02-30T25:61:00+01:00", "not a date", "31/12/2024 10:00", "2024-13-01T00:00:00Z")


@dataclass(frozen=True)
class Damage:
    """Which field each kind of damage hits in one entity (None: kind not applicable)."""

    wrong_type: tuple[str, str]  # field and the JSON text put in its place
    missing: str
    timestamp: str
    currency: str | None = None
    negative: str | None = None  # integer field made negative, or "items" for a line quantity
    totals: bool = False


DAMAGES = {
    "products": Damage(("price_minor", '"n/a"'), "sku", "created_at", "currency", "stock_quantity"),
    "customers": Damage(("tags", '"vip"'), "email", "created_at"),
    "orders": Damage(("total_minor", '"n/a"'), "items", "created_at", "currency", "items", True),
    "events": Damage(("properties", "42"), "session_id", "occurred_at"),
    "stock_events": Damage(("quantity", '"five"'), "kind", "occurred_at", None, "quantity"),
    "price_events": Damage(("price_minor", "[1999]"), "product_id", "occurred_at", "currency",
                           "price_minor"),
    "refunds": Damage(("amount_minor", '"all"'), "order_id", "created_at", "currency",
                      "amount_minor"),
    "customer_notes": Damage(("body", "123"), "body", "created_at"),
}  # fmt: skip


def _kinds(damage: Damage) -> list[str]:
    out = ["wrong_type", "missing_field", "bad_timestamp"]
    out += ["bad_currency"] if damage.currency else []
    out += ["bad_totals"] if damage.totals else []
    out += ["negative"] if damage.negative else []
    return out


def damage_rows(
    entity: str, batch: pa.RecordBatch, parts: list[pa.Array], ratio: float,
    g: np.random.Generator,
) -> tuple[list[pa.Array], dict[str, int]]:  # fmt: skip
    """Damage about ``ratio`` of the rows' fragments; return new fragments and counts per kind."""
    damage = DAMAGES[entity]
    kinds = _kinds(damage)
    n = batch.num_rows
    chosen = g.random(n) < ratio
    pick = np.where(chosen, g.integers(0, len(kinds), n), -1)
    names = batch.schema.names
    parts = list(parts)
    counts = {}
    for i, kind in enumerate(kinds):
        rows = pick == i
        if not rows.any():
            continue
        counts[kind] = int(rows.sum())
        for field, text in _replacements(kind, damage, batch, parts, names, g).items():
            j = names.index(field)
            parts[j] = pc.if_else(pa.array(rows), text, parts[j])
    return parts, counts


def _replacements(kind, damage, batch, parts, names, g) -> dict[str, pa.Array | pa.Scalar]:
    n = batch.num_rows
    if kind == "wrong_type":
        field, text = damage.wrong_type
        return {field: pa.scalar(f'"{field}":{text}')}
    if kind == "missing_field":
        return {damage.missing: pa.scalar(None, pa.string())}
    if kind == "bad_currency":
        return {damage.currency: pa.scalar(f'"{damage.currency}":"ZZZ"')}
    if kind == "bad_timestamp":
        bad = pa.array(_BAD_TIMES).take(pa.array(g.integers(0, len(_BAD_TIMES), n)))
        prefix = pa.scalar(f'"{damage.timestamp}":"')
        return {damage.timestamp: pc.binary_join_element_wise(prefix, bad, pa.scalar('"'), "")}
    if kind == "bad_totals":
        total = batch.column(names.index("total_minor")).to_numpy() + 1
        return {"total_minor": _number("total_minor", total)}
    if damage.negative == "items":  # first line's quantity becomes negative
        items = parts[names.index("items")]
        return {
            "items": pc.replace_substring(items, '"quantity":', '"quantity":-', max_replacements=1)
        }
    value = np.abs(batch.column(names.index(damage.negative)).to_numpy()) + 1
    out = {damage.negative: _number(damage.negative, -value)}
    if "kind" in names:  # stock events: only an absolute "set" must be non-negative
        out["kind"] = pa.scalar('"kind":"set"')
    return out


def _number(field: str, values: np.ndarray) -> pa.Array:
    text = pc.cast(pa.array(values, pa.int64()), pa.string())
    return pc.binary_join_element_wise(pa.scalar(f'"{field}":'), text, "")
