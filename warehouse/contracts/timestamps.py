"""Parse RFC 3339 timestamp text column-wise into UTC microsecond timestamps.

Accepted: ``YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`` (``T`` may be ``t`` or a space,
``Z`` may be ``z``), plus the ISO 8601 variants Arrow also reads unambiguously (``+HHMM``
offsets, minutes without seconds). An offset is mandatory: a local time without one is
ambiguous. Fractions finer than a microsecond are truncated. Impossible dates (February 30th)
and out-of-range offsets are refused.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.contracts.arrowutil import TIMESTAMP

REASON = "must be an RFC 3339 timestamp with an offset, e.g. 2024-05-01T10:00:00Z"
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# The shapes Arrow's cast accepts, for the per-value pass (after upper-casing).
_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)"
)


def parse(text: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """Return (parsed timestamps, mask of present-but-invalid values or None if all are valid).

    Arrow's ISO 8601 cast to a zoned type refuses values without an offset and impossible dates,
    so the common case is one C pass; only a column with some odd or bad value takes the
    normalising pass, and only a column with a bad value takes the per-value Python pass.
    """
    try:
        return _in_range(text.cast(TIMESTAMP))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Lower-case t/z and fractions finer than a microsecond are valid RFC 3339 but not for Arrow.
    normal = pc.replace_substring_regex(pc.ascii_upper(text), r"(\.\d{6})\d+", r"\1")
    try:
        return _in_range(normal.cast(TIMESTAMP))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed, _ = _in_range(_parse_each(normal))
    return parsed, pc.and_(pc.is_valid(text), pc.is_null(parsed))


def _in_range(parsed: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    # Years outside 1900-2199 are typos in shop data (and year 0 is not even a Python date).
    outside = pc.or_(pc.less(parsed, EARLIEST), pc.greater_equal(parsed, LATEST))
    if not pc.any(outside).as_py():
        return parsed, None
    kept = pc.if_else(outside, pa.scalar(None, TIMESTAMP), parsed)
    return kept, outside.fill_null(False)


def _parse_each(normal: pa.Array) -> pa.Array:
    values = []
    for value in normal.to_pylist():
        try:
            shaped = value is not None and _SHAPE.fullmatch(value)
            moment = datetime.fromisoformat(value) if shaped else None
        except ValueError:
            moment = None
        values.append(moment if moment is not None and moment.tzinfo is not None else None)
    return pa.array(values, TIMESTAMP)
