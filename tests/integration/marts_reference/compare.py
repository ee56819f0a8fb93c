"""Compare a mart read from DuckDB with its reference: same columns, same rows, same values."""

from __future__ import annotations

from decimal import Decimal

import polars as pl


def _normal(value):
    # DuckDB and polars agree on ints, strings, dates and naive datetimes; decimals compare by
    # value; maps arrive as lists of key/value structs on one side and dicts on the other.
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, dict):
        return tuple(sorted((k, _normal(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    return value


def rows_by_key(frame: pl.DataFrame, columns: list[str], key: list[str]) -> dict:
    """Return {key tuple: normalised row tuple} for the given columns."""
    out = {}
    for row in frame.select(columns).iter_rows(named=True):
        identity = tuple(row[k] for k in key)
        assert identity not in out, f"duplicate key {identity}"
        out[identity] = tuple(_normal(row[c]) for c in columns)
    return out


def differences(actual: pl.DataFrame, expected: pl.DataFrame, key: list[str]) -> list[str]:
    """Describe every way ``actual`` differs from ``expected`` (empty when they agree)."""
    problems = []
    if set(actual.columns) != set(expected.columns):
        missing = sorted(set(expected.columns) - set(actual.columns))
        extra = sorted(set(actual.columns) - set(expected.columns))
        problems.append(f"columns differ: missing {missing}, unexpected {extra}")
    columns = [c for c in expected.columns if c in actual.columns]
    got, want = rows_by_key(actual, columns, key), rows_by_key(expected, columns, key)
    for identity in sorted(set(want) - set(got), key=repr)[:5]:
        problems.append(f"missing row {identity}")
    for identity in sorted(set(got) - set(want), key=repr)[:5]:
        problems.append(f"unexpected row {identity}")
    for identity in sorted(set(got) & set(want), key=repr):
        for column, a, b in zip(columns, got[identity], want[identity], strict=True):
            if a != b:
                problems.append(f"{identity} {column}: dbt {a!r} != reference {b!r}")
        if len(problems) > 20:
            break
    return problems
