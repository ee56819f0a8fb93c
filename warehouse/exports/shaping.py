"""How each column is selected for each format, so the writers only move values around.

* Parquet keeps every mart type as it is (nested lists and structs too).
* CSV and xlsx cells hold scalars: nested values become their JSON text. CSV writes instants
  as ISO 8601 UTC (``2026-05-08T06:03:09Z``); xlsx keeps them as spreadsheet date-times (UTC).
* NDJSON lines are built by DuckDB (``to_json``) from the same expressions: instants as ISO
  8601 UTC strings, dates as ``YYYY-MM-DD``, decimals as JSON numbers, nested values as JSON.

Money stays integer minor units in every format.
"""

from __future__ import annotations

JSON_LINE = "__line"


def quote(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def is_nested(duck_type: str) -> bool:
    """Tell whether a DuckDB type holds more than one value (list, array, struct, map)."""
    upper = duck_type.upper()
    return upper.endswith("]") or upper.startswith(("STRUCT", "MAP", "UNION"))


def is_instant(duck_type: str) -> bool:
    """Tell whether a DuckDB type is a timestamp (naive UTC or with time zone)."""
    return duck_type.upper().startswith("TIMESTAMP")


def iso_instant(expression: str, duck_type: str) -> str:
    """Return SQL rendering a timestamp as ISO 8601 UTC, with microseconds only when present."""
    # The connection's TimeZone is UTC, so a TIMESTAMPTZ cast to TIMESTAMP is UTC wall time.
    value = expression if duck_type.upper() == "TIMESTAMP" else f"({expression})::timestamp"
    return (
        f"case when epoch_us({value}) % 1000000 = 0 "
        f"then strftime({value}, '%Y-%m-%dT%H:%M:%SZ') "
        f"else strftime({value}, '%Y-%m-%dT%H:%M:%S.%fZ') end"
    )


def select_list(columns: list[list[str]], fmt: str) -> list[str]:
    """Return the select expressions producing the output columns of ``fmt``."""
    if fmt == "json":
        return [_json_line(columns)]
    return [_cell(name, duck_type, fmt) for name, duck_type in columns]


def _cell(name: str, duck_type: str, fmt: str) -> str:
    column = quote(name)
    if fmt == "parquet":
        return column
    if is_nested(duck_type):
        return f"to_json({column})::varchar as {column}"
    if fmt == "csv" and is_instant(duck_type):
        return f"{iso_instant(column, duck_type)} as {column}"
    return column


def _json_line(columns: list[list[str]]) -> str:
    fields = []
    for name, duck_type in columns:
        value = iso_instant(quote(name), duck_type) if is_instant(duck_type) else quote(name)
        fields.append(f"'{name}': {value}")  # names are checked identifiers (spec.SAFE_NAME)
    return "to_json({" + ", ".join(fields) + f"}})::varchar as {JSON_LINE}"
