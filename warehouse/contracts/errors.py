"""Row errors: which row (1-based in the whole request), which field (dotted path), and why."""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

WHOLE_ROW = "$"
"""The ``field`` of errors about the row as a whole (malformed JSON, not an object, empty)."""

_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>.*)`$", re.S)
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, order=True)
class RowError:
    """One invalid row: ``field`` is a dotted path such as ``items.0.quantity``."""

    row: int
    field: str
    reason: str


def join_path(prefix: str, name: str) -> str:
    """Append a field name or index to a dotted path."""
    return f"{prefix}.{name}" if prefix else name


def from_msgspec(row: int, exc: Exception) -> RowError:
    """Translate a decoding failure into a RowError with a dotted field path."""
    if isinstance(exc, RecursionError):
        return RowError(row, WHOLE_ROW, "nesting too deep")
    if isinstance(exc, UnicodeDecodeError):
        return RowError(row, WHOLE_ROW, "invalid UTF-8")
    if not isinstance(exc, msgspec.ValidationError):
        detail = str(exc).removeprefix("JSON is malformed: ")
        return RowError(row, WHOLE_ROW, f"malformed JSON: {_clean(detail)}")
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    reason, raw_path = match["reason"], match["path"] or ""
    path = _INDEX.sub(r".\1", raw_path).lstrip(".")
    unknown = _UNKNOWN.match(reason)
    if unknown:
        return RowError(row, join_path(path, unknown["name"]), "unknown field")
    if not path and reason.startswith("Expected `object`"):
        return RowError(row, WHOLE_ROW, "record must be a JSON object")
    return RowError(row, path or WHOLE_ROW, _clean(reason))


def _clean(message: str) -> str:
    # Every Struct field is declared optional (required-ness is checked column-wise), so msgspec
    # says "str | null"; the client only needs to hear what type was expected.
    text = message.replace("`", "").replace(" | null", "")
    text = re.sub(r"Expected int [<>]= -?922337203685477580[78]", "integer out of range", text)
    return text[:1].lower() + text[1:] if text[:2].istitle() else text
