"""Cross-field business rules, checked column-wise after the field checks.

Orders (amounts in integer minor units, item ``discount_minor`` defaults to 0):

* each item's ``discount_minor`` <= ``quantity * unit_price_minor``;
* ``subtotal_minor == sum(quantity * unit_price_minor - discount_minor)`` over the items;
* ``total_minor == subtotal_minor - discount_minor + tax_minor + shipping_minor`` (absent = 0).

Exact equality, no tolerance: amounts are integers, so rounding is the sender's business.
Stock events: ``quantity >= 0`` when ``kind`` is ``set`` (a delta may be negative).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.contracts.arrowutil import column, list_lengths, true_indices
from warehouse.contracts.levels import Findings, Level, ListLevel

_ITEM_FIELDS = ("quantity", "unit_price_minor", "discount_minor")


def order_rules(table: pa.Table, findings: Findings) -> None:
    """Check item discounts, subtotal and total of every order."""
    items = column(table, "items")
    flat = pc.list_flatten(items)
    qty, price, disc = (pc.struct_field(flat, [name]) for name in _ITEM_FIELDS)
    disc = disc.fill_null(0)
    try:
        gross = pc.multiply_checked(qty, price)
        lines = pc.subtract_checked(gross, disc)
        subtotals = _per_list_sums(items, lines.fill_null(0))
        expected = _expected_totals(table)
    except pa.ArrowInvalid:  # int64 overflow: only absurd amounts get here; use Python ints
        _order_rules_python(table, findings)
        return
    # Items already refused by the field checks (missing or negative numbers) would only add
    # noise here, so their discount and their order's sums are not judged again.
    broken = pc.or_kleene(pc.is_null(lines), pc.or_(pc.less(qty, 1), pc.less(price, 0)))
    broken = pc.or_(broken.fill_null(True), pc.less(disc, 0))
    over = true_indices(pc.and_(pc.invert(broken), pc.greater(disc, gross)))
    reason = "must not exceed quantity x unit_price_minor"
    findings.flag(over, ListLevel(Level(), "items", items), "discount_minor", reason)
    intact = pc.equal(_per_list_sums(items, broken.cast(pa.int64())), 0)
    comparable = pc.and_(intact, pc.greater(list_lengths(items), 0))
    _flag_mismatch(
        findings, table, "subtotal_minor", subtotals, comparable, "the sum of item lines"
    )
    _flag_mismatch(findings, table, "total_minor", expected, comparable, _TOTAL_TEXT)


_TOTAL_TEXT = "subtotal_minor - discount_minor + tax_minor + shipping_minor"


def _expected_totals(table: pa.Table) -> pa.Array:
    subtotal = column(table, "subtotal_minor")
    discount, tax, shipping = (
        column(table, name).fill_null(0)
        for name in ("discount_minor", "tax_minor", "shipping_minor")
    )
    return pc.add_checked(pc.add_checked(pc.subtract_checked(subtotal, discount), tax), shipping)


def _per_list_sums(lists: pa.Array, flat_values: pa.Array) -> pa.Array:
    """Sum each list's slice of ``flat_values`` (aligned with ``pc.list_flatten(lists)``)."""
    ends = pc.cumulative_sum(list_lengths(lists))
    starts = pc.subtract(ends, list_lengths(lists))
    running = pc.cumulative_sum_checked(flat_values) if len(flat_values) else flat_values
    prefix = pa.concat_arrays([pa.array([0], pa.int64()), running.cast(pa.int64())])
    return pc.subtract(pc.take(prefix, ends), pc.take(prefix, starts))


def _flag_mismatch(findings, table, name, expected, comparable, what) -> None:
    actual = column(table, name)
    wrong = pc.and_(comparable, pc.not_equal(actual, expected))
    rows = true_indices(wrong)
    if rows:
        wanted = expected.take(pa.array(rows)).to_pylist()
        by_row = dict(zip(rows, wanted, strict=True))
        findings.flag(rows, Level(), name, lambda i: f"must equal {what} ({by_row[i]})")


def _order_rules_python(table: pa.Table, findings: Findings) -> None:
    names = ("items", "subtotal_minor", "discount_minor", "tax_minor", "shipping_minor")
    for row, order in enumerate(table.select([*names, "total_minor"]).to_pylist()):
        items = order["items"] or []
        if not items or not all(map(_intact_item, items)):
            continue
        lines = []
        for position, item in enumerate(items):
            gross, discount = (
                item["quantity"] * item["unit_price_minor"],
                item["discount_minor"] or 0,
            )
            if discount > gross:
                path = f"items.{position}.discount_minor"
                findings.add(row, path, "must not exceed quantity x unit_price_minor")
            lines.append(gross - discount)
        if order["subtotal_minor"] != sum(lines):
            findings.add(row, "subtotal_minor", f"must equal the sum of item lines ({sum(lines)})")
        extras = (order["tax_minor"] or 0) + (order["shipping_minor"] or 0)
        total = (order["subtotal_minor"] or 0) - (order["discount_minor"] or 0) + extras
        if order["total_minor"] != total:
            findings.add(row, "total_minor", f"must equal {_TOTAL_TEXT} ({total})")


def _intact_item(item: dict | None) -> bool:
    """Mirror of the column-wise ``broken`` test: numbers present and within their bounds."""
    if item is None or item["quantity"] is None or item["unit_price_minor"] is None:
        return False
    return (
        item["quantity"] >= 1
        and item["unit_price_minor"] >= 0
        and (item["discount_minor"] or 0) >= 0
    )


def stock_event_rules(table: pa.Table, findings: Findings) -> None:
    """Refuse a negative absolute stock level (``kind`` = ``set``)."""
    negative_set = pc.and_(
        pc.equal(column(table, "kind"), "set"), pc.less(column(table, "quantity"), 0)
    )
    findings.flag(true_indices(negative_set), Level(), "quantity", "must be >= 0 when kind is set")
