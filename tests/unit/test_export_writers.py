"""Export writers: chunked appends, resume from a checkpoint, gzip members, Parquet parts, xlsx.

Every writer is driven the way the job drives it - resume, write chunks, finish - and a run
interrupted after a checkpoint (with a chunk written past it) must produce the same bytes as an
uninterrupted one.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from warehouse.controlplane.errors import Invalid
from warehouse.exports import spreadsheet
from warehouse.exports.query import _cut
from warehouse.exports.shaping import iso_instant, select_list
from warehouse.exports.spec import ExportRequest, ExportSpec, resolve
from warehouse.exports.writers import make_writer

BUILD = "20261125T152522419687Z-e7996f"
COLUMNS = [
    ["order_id", "VARCHAR"],
    ["total_minor", "BIGINT"],
    ["rate", "DECIMAL(18,4)"],
    ["is_paid", "BOOLEAN"],
    ["day", "DATE"],
    ["created_at", "TIMESTAMP"],
    ["note", "VARCHAR"],
]


def spec(fmt: str, compression: str = "none", chunk_rows: int = 4) -> ExportSpec:
    return ExportSpec(
        report="orders",
        mart="fct_orders",
        format=fmt,
        compression=compression,
        columns=COLUMNS,
        build_id=BUILD,
        timezone="UTC",
        chunk_rows=chunk_rows,
    )


def rows(count: int) -> pa.Table:
    """Rows with every scalar kind, shaped by DuckDB for the format (as the job does)."""
    return pa.table(
        {
            "order_id": [f"ord-{i:03}" for i in range(count)],
            "total_minor": [1000 + i for i in range(count)],
            "rate": pa.array([Decimal("0.1234") * i for i in range(count)], pa.decimal128(18, 4)),
            "is_paid": [i % 2 == 0 for i in range(count)],
            "day": [date(2026, 1, 1 + i % 28) for i in range(count)],
            "created_at": pa.array(
                [datetime(2026, 1, 1, 12, 0, i % 60) for i in range(count)], pa.timestamp("us")
            ),
            "note": [None if i % 3 else f'=cmd "{i}",\nx' for i in range(count)],
        }
    )


def shaped(fmt: str, table: pa.Table) -> pa.Table:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("t", table)
    return con.sql(f"select {', '.join(select_list(COLUMNS, fmt))} from t").to_arrow_table()


def chunks_of(table: pa.Table, size: int, piece: int = 3) -> list[list[pa.Table]]:
    """Cut ``table`` as the reader does: chunks of ``size`` rows, each a list of pieces."""
    chunks: list[list[pa.Table]] = [[]]
    for item in _cut(iter(table.to_batches(max_chunksize=5)), table.schema, 0, size, piece):
        if item is None:
            chunks.append([])
        else:
            chunks[-1].append(item)
    return chunks[:-1]


def feed(writer, chunk: list[pa.Table]) -> dict:
    for piece in chunk:
        writer.append(piece)
    return writer.commit()


def run(fmt: str, work: Path, table: pa.Table, compression="none", crash_after=None) -> bytes:
    """Write ``table`` as the job would; with ``crash_after``, stop after that many checkpoints
    plus one more (unrecorded) chunk, then resume from the last checkpoint and finish."""
    the_spec = spec(fmt, compression)
    table = shaped(fmt, table)
    chunks = chunks_of(table, the_spec.chunk_rows)
    checkpoint = None
    if crash_after is not None:
        writer = make_writer(the_spec, work)
        writer.resume(None)
        for chunk in chunks[:crash_after]:
            checkpoint = feed(writer, chunk)
        feed(writer, chunks[crash_after])  # written, but the crash came before its checkpoint
        writer.append(chunks[crash_after + 1][0])  # and half of the next one
        writer.abort()  # what a dying process does to its files, without writing anything
    writer = make_writer(the_spec, work)
    start = writer.resume(checkpoint)
    for chunk in chunks[start // the_spec.chunk_rows :]:
        feed(writer, chunk)
    return writer.finish(table.schema).read_bytes()


def test_cut_gives_pieces_at_fixed_offsets_of_each_chunk():
    table = pa.table({"n": list(range(23))})
    batches = table.to_batches(max_chunksize=5)
    cut = list(_cut(iter(batches), table.schema, 0, 10, 4))
    shape = [None if t is None else t.column("n").to_pylist() for t in cut]
    assert shape == [
        [0, 1, 2, 3], [4, 5, 6, 7], [8, 9], None,
        [10, 11, 12, 13], [14, 15, 16, 17], [18, 19], None,
        [20, 21, 22], None,
    ]  # fmt: skip
    other_batches = table.slice(10).to_batches(max_chunksize=7)  # the scan resumed at row 10
    resumed = list(_cut(iter(other_batches), table.schema, 0, 10, 4))
    assert [None if t is None else t.column("n").to_pylist() for t in resumed] == shape[4:]
    skipped = list(_cut(iter(batches), table.schema, 20, 10, 4))  # skipping rows instead
    assert [None if t is None else t.column("n").to_pylist() for t in skipped] == shape[8:]


def test_instants_are_iso_utc_with_microseconds_only_when_present():
    con = duckdb.connect()
    sql = iso_instant("ts", "TIMESTAMP")
    got = con.sql(
        f"select {sql} from (values (timestamp '2026-05-08 06:03:09'), "
        "(timestamp '2026-05-08 06:03:09.5')) t(ts)"
    ).fetchall()
    assert got == [("2026-05-08T06:03:09Z",), ("2026-05-08T06:03:09.500000Z",)]


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_csv_is_readable_and_exact(tmp_path, compression):
    data = run("csv", tmp_path, rows(10), compression)
    text = (gzip.decompress(data) if compression == "gzip" else data).decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == [name for name, _t in COLUMNS]
    assert parsed[0] == {
        "order_id": "ord-000",
        "total_minor": "1000",
        "rate": "0.0000",
        "is_paid": "true",
        "day": "2026-01-01",
        "created_at": "2026-01-01T12:00:00Z",
        "note": '=cmd "0",\nx',  # data is kept as it is, quoted
    }
    assert parsed[1]["note"] == "" and parsed[9]["rate"] == "1.1106"


@pytest.mark.parametrize(
    ("fmt", "compression"),
    [("csv", "none"), ("csv", "gzip"), ("json", "none"), ("json", "gzip"), ("parquet", "none")],
)
def test_resume_after_a_crash_gives_the_same_bytes(tmp_path, fmt, compression):
    whole = run(fmt, tmp_path / "whole", rows(18), compression)
    resumed = run(fmt, tmp_path / "resumed", rows(18), compression, crash_after=2)
    assert hashlib.sha256(resumed).digest() == hashlib.sha256(whole).digest()


def test_gzip_is_one_member_per_chunk_and_decompresses_whole(tmp_path):
    data = run("json", tmp_path, rows(10), "gzip")
    assert data.count(b"\x1f\x8b\x08") >= 3  # 3 chunks of at most 4 rows: 3 members
    lines = gzip.decompress(data).decode().splitlines()
    assert len(lines) == 10
    first = json.loads(lines[0])
    assert first == {
        "order_id": "ord-000",
        "total_minor": 1000,
        "rate": 0.0,
        "is_paid": True,
        "day": "2026-01-01",
        "created_at": "2026-01-01T12:00:00Z",
        "note": '=cmd "0",\nx',
    }


@pytest.mark.parametrize(("fmt", "compression"), [("json", "gzip"), ("csv", "gzip")])
def test_zero_rows_still_make_a_valid_file(tmp_path, fmt, compression):
    data = run(fmt, tmp_path, rows(0), compression)
    expected = b"" if fmt == "json" else b'"order_id","total_minor","rate"'
    assert gzip.decompress(data).startswith(expected)


def test_parquet_has_one_row_group_per_piece_and_the_rows(tmp_path):
    run("parquet", tmp_path, rows(10))  # chunks of 4 rows, pieces of 3
    parquet = pq.ParquetFile(tmp_path / "data.parquet")
    groups = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
    assert groups == [3, 1, 3, 1, 2]
    assert parquet.read().to_pylist() == rows(10).to_pylist()


def test_parquet_resume_drops_parts_written_after_the_checkpoint(tmp_path):
    writer = make_writer(spec("parquet"), tmp_path)
    writer.resume(None)
    chunks = chunks_of(rows(12), 4)
    state = feed(writer, chunks[0])
    feed(writer, chunks[1])
    again = make_writer(spec("parquet"), tmp_path)
    assert again.resume(state) == 4
    assert sorted(p.name for p in tmp_path.glob("part-*")) == ["part-000000.arrow"]


def test_a_missing_part_means_starting_again(tmp_path):
    writer = make_writer(spec("parquet"), tmp_path)
    writer.resume(None)
    state = feed(writer, chunks_of(rows(4), 4)[0])
    (tmp_path / "part-000000.arrow").unlink()
    assert make_writer(spec("parquet"), tmp_path).resume(state) == 0


def test_text_resume_truncates_to_the_checkpoint_or_starts_over(tmp_path):
    writer = make_writer(spec("csv"), tmp_path)
    writer.resume(None)
    state = feed(writer, [shaped("csv", rows(4))])
    writer.abort()
    with open(tmp_path / "data", "ab") as handle:
        handle.write(b"half a chunk")
    again = make_writer(spec("csv"), tmp_path)
    assert again.resume(state) == 4
    again.abort()
    assert (tmp_path / "data").stat().st_size == state["bytes"]
    (tmp_path / "data").write_bytes(b"short")  # shorter than the checkpoint: unusable
    again = make_writer(spec("csv"), tmp_path)
    assert again.resume(state) == 0
    again.abort()


def test_xlsx_holds_typed_cells_and_text_never_becomes_a_formula(tmp_path):
    run("xlsx", tmp_path, rows(6))
    book = openpyxl.load_workbook(tmp_path / "data.xlsx", read_only=True)
    got = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()  # a read-only workbook keeps its file open until closed
    assert got[0] == tuple(name for name, _t in COLUMNS)
    assert got[1] == (
        "ord-000",
        1000,
        0,
        True,
        datetime(2026, 1, 1),
        datetime(2026, 1, 1, 12),
        '=cmd "0",\nx',
    )
    assert got[2][6] is None and got[6][2] == pytest.approx(0.617)


def test_xlsx_restarts_when_resumed_and_is_still_identical(tmp_path):
    whole = run("xlsx", tmp_path / "whole", rows(10))
    resumed = run("xlsx", tmp_path / "resumed", rows(10), crash_after=1)
    assert resumed == whole


def test_xlsx_continues_on_a_new_sheet_when_one_is_full(tmp_path, monkeypatch):
    monkeypatch.setattr(spreadsheet, "SHEET_ROWS", 5)  # header + 4 rows per sheet
    run("xlsx", tmp_path, rows(10))
    book = openpyxl.load_workbook(tmp_path / "data.xlsx", read_only=True)
    names = book.sheetnames
    counts = [len(list(sheet.iter_rows(values_only=True))) for sheet in book.worksheets]
    book.close()
    assert names == ["orders", "orders (2)", "orders (3)"]
    assert counts == [5, 5, 3]


class FakeSnapshot:
    build_id = BUILD

    def columns(self, mart):
        return [{"name": n, "type": t} for n, t in [["tenant_id", "BIGINT"], *COLUMNS]] + [
            {"name": "_batch_id", "type": "VARCHAR"}
        ]


def test_spec_turns_local_days_into_utc_bounds_across_a_dst_change():
    request = ExportRequest(
        "orders", start_date=date(2026, 3, 29), end_date=date(2026, 3, 29)
    )  # Berlin moves to summer time that day
    resolved = resolve(request, FakeSnapshot(), "Europe/Berlin", 1000)
    assert resolved.window == ["2026-03-28T23:00:00", "2026-03-29T22:00:00"]
    assert "_batch_id" not in resolved.column_names and resolved.build_id == BUILD


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (ExportRequest("nope"), "report"),
        (ExportRequest("orders", "parquet", "gzip"), "compression"),
        (ExportRequest("orders", "xlsx", "gzip"), "compression"),
        (ExportRequest("orders", columns=["total_minor", "secret"]), "columns"),
        (ExportRequest("orders", columns=["_batch_id"]), "columns"),  # lineage stays inside
        (ExportRequest("orders", values={"segment": ["Champions"]}), "filters.segment"),
        (ExportRequest("stock_levels", start_date=date(2026, 1, 1)), "filters.start_date"),
        (
            ExportRequest("orders", start_date=date(2026, 2, 1), end_date=date(2026, 1, 1)),
            "filters.end_date",
        ),
    ],
)
def test_spec_refuses_what_does_not_apply(request_, field):
    with pytest.raises(Invalid) as refused:
        resolve(request_, FakeSnapshot(), "UTC", 1000)
    assert refused.value.field == field
