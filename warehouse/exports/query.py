"""Read an export's rows from the tenant's partition of its pinned snapshot, in chunks.

Order is what makes a resumed export byte-identical: the partition file is sorted by the mart's
key (``warehouse.publish.export``), and DuckDB guarantees the file's row order for a scan with
WHERE, OFFSET and projections - not for joins, and an ORDER BY would sort (hold) every row.
So the SQL is one scan, and lookup filters (keys read from another mart) are applied to the
Arrow batches with ``pyarrow.compute.is_in``.

The rows come out as pieces of ``PIECE_ROWS`` rows, with ``None`` after each chunk of
``chunk_rows``. Chunks start at multiples of ``chunk_rows`` and pieces at fixed offsets inside a
chunk, whatever batches DuckDB hands over, so a run resumed at a chunk boundary feeds the
writers exactly the pieces an uninterrupted run did. Memory holds a few pieces, not a chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from warehouse import duck
from warehouse.exports.reports import REPORTS, Lookup
from warehouse.exports.shaping import quote, select_list
from warehouse.exports.spec import ExportSpec, column_filters
from warehouse.marts import TenantMarts

BATCH_ROWS = 2048  # DuckDB's vector size: the scan holds little
PIECE_ROWS = 16_384  # also a Parquet export's row group, as in the published marts
HIDDEN = "__lookup_"
# An export runs beside requests for minutes: it gets a connection of its own with one thread
# (a single-threaded scan buffers least and leaves the request connection's threads alone).
EXPORT_DUCKDB = {"threads": 1, "memory_limit": "128MB"}


@dataclass(frozen=True)
class Plan:
    """The scan of one export: output expressions, row filters, and lookups to apply after."""

    select: list[str]
    where: list[str]
    params: list[Any]
    lookups: list[tuple[Lookup, list[str]]]


@dataclass
class Chunks:
    """An export's output schema and its rows: pieces (tables), ``None`` ending each chunk."""

    schema: pa.Schema
    pieces: Iterator[pa.Table | None]


def plan(spec: ExportSpec) -> Plan:
    """Return the scan that selects the spec's rows and columns."""
    report = REPORTS[spec.report]
    where: list[str] = []
    params: list[Any] = []
    low, high = spec.window
    if report.date_column is not None:
        column = quote(report.date_column)
        local = report.date_kind == "local_date"
        parse = date.fromisoformat if local else datetime.fromisoformat
        if low is not None:
            where.append(f"{column} >= ?")
            params.append(parse(low))
        if high is not None:
            where.append(f"{column} <= ?" if local else f"{column} < ?")
            params.append(parse(high))
    for column, values in column_filters(report, spec):
        where.append(f"list_contains(?::varchar[], {quote(column)})")
        params.append(values)
    lookups = [
        (rule, spec.values[name])
        for name, rule in report.filters.items()
        if isinstance(rule, Lookup) and spec.values.get(name)
    ]
    return Plan(select_list(spec.columns, spec.format), where, params, lookups)


def count_rows(marts: TenantMarts, spec: ExportSpec) -> int:
    """Return how many rows the export will have (lookups as SQL semi-joins: order is moot)."""
    scan = plan(spec)
    where, params = list(scan.where), list(scan.params)
    for rule, values in scan.lookups:
        where.append(f"{quote(rule.key)} in ({_lookup_sql(marts, rule)})")
        params.append(values)
    sql = f"select count(*) from {marts.source(spec.mart)}{_where(where)}"
    with duck.cursor() as cur:
        (count,) = cur.execute(sql, params).fetchone()
    return int(count)


@contextmanager
def read_chunks(marts: TenantMarts, spec: ExportSpec, start_row: int) -> Iterator[Chunks]:
    """Yield the export's rows from output row ``start_row`` on (a chunk boundary)."""
    scan = plan(spec)
    with _connection() as con:
        sets = [_lookup_values(con, marts, rule, values) for rule, values in scan.lookups]
        # Without lookups every output row is a scanned row, so DuckDB can skip them.
        offset = 0 if sets else start_row
        hidden = [f"{quote(rule.key)} as {HIDDEN}{i}" for i, (rule, _v) in enumerate(scan.lookups)]
        sql = (
            f"select {', '.join(scan.select + hidden)} from {marts.source(spec.mart)}"
            f"{_where(scan.where)} offset ?"
        )
        reader = con.sql(sql, params=[*scan.params, offset]).to_arrow_reader(BATCH_ROWS)
        keep = [i for i, f in enumerate(reader.schema) if not f.name.startswith(HIDDEN)]
        schema = pa.schema([reader.schema.field(i) for i in keep])
        batches = _filtered(reader, sets, keep)
        cut = _cut(batches, schema, start_row - offset, spec.chunk_rows, PIECE_ROWS)
        yield Chunks(schema, cut)


@contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(config=EXPORT_DUCKDB)
    try:
        con.execute("set TimeZone = 'UTC'")  # as warehouse.duck: instants are UTC
        con.execute("set enable_external_file_cache = false")
        yield con
    finally:
        con.close()


def _where(conditions: list[str]) -> str:
    return " where " + " and ".join(conditions) if conditions else ""


def _lookup_sql(marts: TenantMarts, rule: Lookup) -> str:
    # Mart names are ours; the only request value is the one parameter the template takes.
    return rule.sql.replace("{lookup}", marts.source(rule.mart))


def _lookup_values(
    con: duckdb.DuckDBPyConnection, marts: TenantMarts, rule: Lookup, values: list[str]
) -> pa.Array:
    table = con.sql(_lookup_sql(marts, rule), params=[values]).to_arrow_table()
    return pc.drop_null(table.column(0).combine_chunks())


def _filtered(
    reader: pa.RecordBatchReader, sets: list[pa.Array], keep: list[int]
) -> Iterator[pa.RecordBatch]:
    hidden = len(reader.schema) - len(sets)
    for batch in reader:
        if sets:
            masks = [pc.is_in(batch.column(hidden + i), value_set=s) for i, s in enumerate(sets)]
            mask = masks[0]
            for other in masks[1:]:
                mask = pc.and_(mask, other)
            batch = batch.filter(mask)
        if batch.num_rows:
            yield batch.select(keep)


def _cut(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, skip: int, chunk: int, piece: int
) -> Iterator[pa.Table | None]:
    """Drop ``skip`` rows; yield pieces at fixed offsets in each chunk, ``None`` after a chunk."""
    buffer = _Buffer(schema)
    filled = 0  # rows of the current chunk yielded so far
    for batch in batches:
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        buffer.add(batch.slice(skip))
        skip = 0
        while buffer.rows >= (wanted := min(piece, chunk - filled)):
            yield buffer.take(wanted)
            filled += wanted
            if filled == chunk:
                yield None
                filled = 0
    if buffer.rows:  # the last chunk, short
        filled += buffer.rows
        yield buffer.take(buffer.rows)
    if filled:
        yield None


class _Buffer:
    """Batches waiting to be cut into pieces."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema, self.batches, self.rows = schema, [], 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch)
        self.rows += batch.num_rows

    def take(self, count: int) -> pa.Table:
        taken, needed = [], count
        while needed:
            head = self.batches[0]
            if head.num_rows <= needed:
                taken.append(self.batches.pop(0))
            else:
                taken.append(head.slice(0, needed))
                self.batches[0] = head.slice(needed)
            needed -= taken[-1].num_rows
        self.rows -= count
        return pa.Table.from_batches(taken, self.schema)
