"""Small Arrow helpers shared by the contract checks, rules and shaping (no Python row loops)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("us", tz="UTC")


def column(table: pa.Table, name: str) -> pa.Array:
    """Return one column of a table as a single contiguous array."""
    data = table.column(name)
    if data.num_chunks == 1:
        return data.chunk(0)
    return pa.concat_arrays(data.chunks) if data.num_chunks else pa.array([], data.type)


def arange(n: int) -> pa.Array:
    """Return the int64 array 0, 1, ..., n-1 (computed in C, not from a Python range)."""
    if n == 0:
        return pa.array([], pa.int64())
    return pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)


def list_lengths(lists: pa.Array) -> pa.Array:
    """Return each list's (or map's) length, 0 for null lists."""
    if isinstance(lists, pa.MapArray):
        offsets = lists.offsets
        lengths = pc.subtract(offsets.slice(1), offsets.slice(0, len(lists)))
        return pc.if_else(pc.is_valid(lists), lengths, 0).cast(pa.int64())
    return pc.list_value_length(lists).cast(pa.int64()).fill_null(0)


def list_starts(lists: pa.Array) -> pa.Array:
    """Return, per list, the index of its first element in ``pc.list_flatten(lists)``."""
    lengths = list_lengths(lists)
    if len(lengths) == 0:
        return lengths
    return pc.subtract(pc.cumulative_sum(lengths), lengths)


def list_positions(lists: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Return (parent index, 0-based position in its list) for every flattened element."""
    parents = pc.list_parent_indices(lists).cast(pa.int64())
    starts = pc.take(list_starts(lists), parents)
    return parents, pc.subtract(arange(len(parents)), starts)


def constant(value: object, type_: pa.DataType, n: int) -> pa.Array:
    """Return an array repeating one value ``n`` times."""
    return pa.repeat(pa.scalar(value, type_), n)


def true_indices(mask: pa.Array) -> list[int]:
    """Return the positions where a boolean mask is true (nulls count as false)."""
    if mask.null_count:
        mask = mask.fill_null(False)
    if not pc.any(mask).as_py():
        return []
    return pc.indices_nonzero(mask).to_pylist()
