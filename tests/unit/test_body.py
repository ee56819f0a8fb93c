"""Streaming body splitting: NDJSON, JSON arrays, gzip, and the bombs each must refuse."""

import gzip
import json

import pytest

from ingestion.body import (
    BodyError,
    chunked,
    gunzip,
    json_array_records,
    ndjson_records,
)

RECORDS = [{"id": str(i), "name": f'n "{i}" \\ , ] }}', "tags": ["a", "]"]} for i in range(50)]


def blocks(data: bytes, size: int):
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("block_size", [1, 3, 7, 64, 1 << 20])  # splits land everywhere
def test_json_array_split_matches_elements(block_size):
    data = json.dumps(RECORDS).encode()
    out = list(json_array_records(blocks(data, block_size)))
    assert [json.loads(r) for r in out] == RECORDS


@pytest.mark.parametrize("block_size", [1, 5, 1 << 20])
def test_records_wrapper_object(block_size):
    data = json.dumps({"meta": {"records": "no"}, "records": RECORDS, "after": [1]}).encode()
    out = list(json_array_records(blocks(data, block_size)))
    assert [json.loads(r) for r in out] == RECORDS


def test_scalar_and_invalid_elements_are_kept_for_row_errors():
    out = list(json_array_records([b'[{"a":1}, 42, "x", {bad}]']))
    assert out == [b'{"a":1}', b"42", b'"x"', b"{bad}"]


def test_empty_array_yields_nothing():
    assert list(json_array_records([b"[ ]"])) == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"items": []}',  # no records array
        b'[{"a": 1}',  # truncated
        b'[{"a": "unterminated',  # ends inside a string
        b"",  # empty
    ],
)
def test_malformed_json_documents_are_refused(body):
    with pytest.raises(BodyError) as err:
        list(json_array_records([body]))
    assert err.value.status == 400


def test_json_bomb_depth_is_refused():
    with pytest.raises(BodyError, match="nesting"):
        list(json_array_records([b"[" + b"[" * 10_000]))


def test_ndjson_split_skips_blank_lines_and_keeps_last_line():
    data = b'{"a":1}\n\n{"a":2}\r\n{"a":3}'
    assert [json.loads(r) for r in ndjson_records(blocks(data, 2))] == [
        {"a": 1},
        {"a": 2},
        {"a": 3},
    ]


def test_gunzip_streams_and_handles_concatenated_members():
    data = gzip.compress(b"abc\n") + gzip.compress(b"def\n")
    assert b"".join(gunzip(blocks(data, 3), 1000)) == b"abc\ndef\n"


def test_gunzip_bomb_is_refused_with_413():
    bomb = gzip.compress(b"0" * 5_000_000)
    with pytest.raises(BodyError) as err:
        list(gunzip([bomb], max_bytes=1_000_000))
    assert err.value.status == 413


def test_truncated_gzip_is_refused():
    data = gzip.compress(b'{"a":1}\n' * 1000)
    with pytest.raises(BodyError, match="truncated"):
        list(gunzip([data[: len(data) // 2]], 10**9))


def test_garbage_gzip_is_refused():
    with pytest.raises(BodyError, match="invalid gzip"):
        list(gunzip([b"this is not gzip at all"], 10**9))


def test_chunked_bounds_rows_and_numbers_them():
    chunks = list(chunked((b"x" for _ in range(25)), max_rows=10, max_bytes=10**6))
    assert [(c.index, c.first_row, len(c.records)) for c in chunks] == [
        (0, 1, 10),
        (1, 11, 10),
        (2, 21, 5),
    ]
