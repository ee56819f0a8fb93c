"""NDJSON chunk blobs: the same chunks as splitting into records and grouping them, cut in C;
and validating such a blob of known lines like plain NDJSON."""

import random

import pytest

from ingestion.body import BodyError, chunked, ndjson_records
from ingestion.ndjson import MAX_RECORD_BYTES, ndjson_chunks, without_blank_lines
from tests.unit.test_contracts import encode, order
from warehouse.contracts import NdjsonLines, validate_records


def blocks(data: bytes, size: int):
    return [data[i : i + size] for i in range(0, len(data), size)]


def by_records(data: bytes, block: int, max_rows: int, max_bytes: int):
    chunks = chunked(ndjson_records(blocks(data, block)), max_rows, max_bytes)
    return [(c.index, c.first_row, c.rows, b"\n".join(c.records)) for c in chunks]


def by_blobs(data: bytes, block: int, max_rows: int, max_bytes: int):
    chunks = ndjson_chunks(blocks(data, block), max_rows, max_bytes)
    return [(c.index, c.first_row, c.rows, c.records) for c in chunks]


def random_ndjson(rng: random.Random) -> bytes:
    lines = []
    for i in range(rng.randint(0, 60)):
        kind = rng.random()
        if kind < 0.1:
            lines.append(rng.choice([b"", b"  ", b"\t\r", b"\x0b"]))  # blank lines are skipped
        else:
            line = b'{"id": "%d", "pad": "%s"}' % (i, b"x" * rng.randint(0, 40))
            lines.append(line + (b"\r" if kind > 0.9 else b""))  # CRLF line ends stay in records
    data = b"\n".join(lines)
    return data + rng.choice([b"", b"\n", b"\n\n", b" "])


@pytest.mark.parametrize("seed", range(200))
def test_blob_chunks_equal_record_chunks(seed):
    rng = random.Random(seed)
    data = random_ndjson(rng)
    block = rng.choice([1, 2, 7, 30, 100, 1 << 20])
    max_rows = rng.choice([1, 2, 3, 5, 50_000])
    max_bytes = rng.choice([1, 10, 60, 200, 1 << 20])
    assert by_blobs(data, block, max_rows, max_bytes) == by_records(
        data, block, max_rows, max_bytes
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a":1}\n{"a":2}', b'{"a":1}\n{"a":2}'),  # nothing to drop: returned as is
        (b'\n{"a":1}\n \r\n{"a":2}\n\t', b'{"a":1}\n{"a":2}'),
        (b" ", b""),
    ],
)
def test_blank_lines_are_dropped(data, expected):
    assert without_blank_lines(data) == expected


def test_a_record_past_the_limit_is_refused_with_413():
    data = b'{"a": "' + b"x" * 2 * MAX_RECORD_BYTES + b'"}\n'
    with pytest.raises(BodyError) as err:
        list(ndjson_chunks(blocks(data, 1 << 16), 10, 1 << 20))
    assert err.value.status == 413


@pytest.mark.parametrize("bad", [False, True], ids=["all-good", "one-bad"])
def test_known_lines_validate_like_plain_ndjson(bad):
    records = [order(i) for i in range(1, 6)]
    if bad:
        records[2]["total_minor"] = -1
    blob = b"\n".join(encode(r) for r in records)
    known = validate_records("order", NdjsonLines(blob, len(records)), first_row=11)
    plain = validate_records("order", blob, first_row=11)
    assert known.errors == plain.errors
    assert {e.row for e in known.errors} == ({13} if bad else set())
    assert {k: t.to_pylist() for k, t in known.tables.items()} == {
        k: t.to_pylist() for k, t in plain.tables.items()
    }
