"""Small vectorised builders of Arrow columns: ids, picks from word lists, joins, lists."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def width_for(count: int, minimum: int) -> int:
    """Return the id width that fits numbers up to ``count`` (at least ``minimum`` digits)."""
    return max(minimum, len(str(int(count))))


def ids(
    prefix: str, numbers: np.ndarray, width: int, null: np.ndarray | None = None,
    widen: bool = False,
) -> pa.Array:  # fmt: skip
    """Return ``prefix`` + zero-padded numbers ("prod-0000042"), null where ``null`` is true.

    Ids other records refer to must always have the same width, so a number too wide raises;
    ``widen`` lets ids nobody refers to grow instead. Every id in a column has the same length,
    so the digits are written row by row into a byte matrix (transposed once at the end),
    several times faster than formatting strings.
    """
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) and (numbers.min() < 0 or (numbers.max() >= 10**width and not widen)):
        raise ValueError(f"id numbers must be within 0..{10**width - 1}")
    width = width_for(numbers.max(), width) if len(numbers) else width
    n, size = len(numbers), len(head) + width
    columns = np.empty((size, n), dtype=np.uint8)
    columns[: len(head)] = head[:, None]
    rest = numbers.astype(np.uint32 if n == 0 or numbers.max() < 2**32 else np.uint64)
    for row in range(size - 1, len(head) - 1, -1):
        quotient = rest // 10
        columns[row] = rest - quotient * 10 + 48
        rest = quotient
    validity = None if null is None else pa.array(~np.asarray(null, dtype=bool)).buffers()[1]
    offsets = pa.py_buffer(np.arange(0, (n + 1) * size, size, dtype=np.int32))
    data = pa.py_buffer(np.ascontiguousarray(columns.T))
    return pa.StringArray.from_buffers(n, offsets, data, validity, -1 if null is not None else 0)


@lru_cache(maxsize=256)
def _table(values: tuple[str, ...]) -> pa.Array:
    return pa.array(values, pa.string())


def pick(values: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """Return ``values[index]`` for every index, as a string column."""
    return _table(values).take(pa.array(index, pa.int64()))


def join(*parts: pa.Array | pa.Scalar | str) -> pa.Array:
    """Concatenate string columns and scalars element-wise (null if any part is null)."""
    items = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*items, "")


def ints(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Return an int64 column, null where ``mask`` is true."""
    return pa.array(values, pa.int64(), mask=mask)


def offsets_of(counts: np.ndarray) -> np.ndarray:
    """Return list offsets (length n + 1) from per-row element counts."""
    out = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=out[1:])
    return out


def lists(counts: np.ndarray, values: pa.Array) -> pa.Array:
    """Return a list column whose row i holds the next ``counts[i]`` values."""
    return pa.ListArray.from_arrays(pa.array(offsets_of(counts)), values)


def bitmask_lists(masks: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    """Return list<string> columns holding ``values[b]`` for every bit b set in each mask."""
    bits = (masks[:, None] >> np.arange(len(values))) & 1
    row, col = np.nonzero(bits)
    return lists(np.bincount(row, minlength=len(masks)), pick(values, col))


def timestamps(utc_seconds: np.ndarray, tz: str) -> pa.Array:
    """Return a timestamp[us, tz] column from UTC epoch seconds."""
    return pa.array(utc_seconds.astype(np.int64) * 1_000_000, pa.timestamp("us", tz=tz))


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Return, for each element of consecutive groups of the given sizes, its group's index."""
    return np.repeat(np.arange(len(counts)), counts)


def position_in_group(counts: np.ndarray) -> np.ndarray:
    """Return each element's 0-based position within its group (groups consecutive)."""
    starts = offsets_of(counts)[:-1]
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)
