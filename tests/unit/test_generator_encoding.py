"""The generator's vectorised building blocks: NDJSON encoding, time formatting, ids, seeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from ingestion.generator.columns import ids
from ingestion.generator.ndjson import encode_batch, fragments, lines, raw_json_field
from ingestion.generator.seeding import hashed_unit, rng
from ingestion.generator.timefmt import local_to_utc, rfc3339, utc_offsets

ZONES = ("Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata",
         "Australia/Sydney", "America/St_Johns", "UTC")  # fmt: skip


MAP = pa.map_(pa.string(), pa.string())


def _batch() -> pa.RecordBatch:
    stamp = datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC)  # one second before Berlin's DST
    return pa.record_batch(
        [
            pa.array(["plain", 'quote " and \\ slash', "line\nbreak\ttab", None]),
            pa.array([0, -5, 2**40, None], pa.int64()),
            pa.array([True, False, None, True]),
            pa.array([stamp, stamp, None, stamp], pa.timestamp("us", tz="Europe/Berlin")),
            pa.array([["a", "ü"], [], None, ["x"]]),
            pa.array([{"n": 1, "s": "x"}, None, {"n": None, "s": "y"}, {"n": 2, "s": None}]),
            pa.array([[("size", "M")], [], None, [("k", '"v"')]], MAP),
            pa.array(['{"a":[1,2]}', "{}", None, '{"b":null}']),
        ],
        schema=pa.schema([
            ("text", pa.string()), ("number", pa.int64()), ("flag", pa.bool_()),
            ("at", pa.timestamp("us", tz="Europe/Berlin")), ("tags", pa.list_(pa.string())),
            ("inner", pa.struct([("n", pa.int64()), ("s", pa.string())])),
            ("attrs", MAP), raw_json_field("props"),
        ]),
    )  # fmt: skip


def test_ndjson_encoding_round_trips_through_json():
    rows = [json.loads(line) for line in bytes(encode_batch(_batch())).decode().splitlines()]
    assert rows[0] == {
        "text": "plain", "number": 0, "flag": True, "at": "2024-03-31T01:59:59+01:00",
        "tags": ["a", "ü"], "inner": {"n": 1, "s": "x"}, "attrs": {"size": "M"},
        "props": {"a": [1, 2]},
    }  # fmt: skip
    assert rows[1]["text"] == 'quote " and \\ slash' and rows[1]["inner"] is None
    assert rows[1]["tags"] == [] and rows[1]["attrs"] == {} and rows[1]["number"] == -5
    assert rows[2] == {"text": "line\nbreak\ttab", "number": 2**40, "flag": None, "at": None,
                       "tags": None, "inner": {"n": None, "s": "y"}, "attrs": None,
                       "props": None}  # fmt: skip
    assert rows[3]["text"] is None and rows[3]["attrs"] == {"k": '"v"'}


def test_field_fragments_give_the_same_bytes_and_can_drop_a_field():
    batch = _batch()
    assert bytes(lines(fragments(batch))) == bytes(encode_batch(batch))
    parts = fragments(batch)
    parts[1] = pa.array([None, '"number":1', None, None], pa.string())
    rows = [json.loads(line) for line in bytes(lines(parts)).decode().splitlines()]
    assert "number" not in rows[0] and rows[1]["number"] == 1 and len(rows[0]) == 7


@pytest.mark.parametrize("zone", ZONES)
def test_rfc3339_matches_zoneinfo_across_transitions(zone):
    seconds = rng(1, zone).integers(-(10**9), 2 * 10**9, 5000)
    text = rfc3339(seconds, utc_offsets(zone, seconds)).to_pylist()
    for value, formatted in zip(seconds.tolist(), text, strict=True):
        assert formatted == datetime.fromtimestamp(value, ZoneInfo(zone)).isoformat()
    local = seconds + utc_offsets(zone, seconds)
    moved = local_to_utc(zone, local) != seconds
    assert moved.mean() < 0.01  # only the repeated hour of a DST fall-back is ambiguous


def test_ids_are_fixed_width_and_can_be_null():
    out = ids("ord-", np.array([1, 42, 99_999_999]), 8, null=np.array([False, True, False]))
    assert out.to_pylist() == ["ord-00000001", None, "ord-99999999"]
    with pytest.raises(ValueError, match="within"):
        ids("x", np.array([7, 100]), 2)  # referenced ids must keep one width
    assert ids("x", np.array([7, 100]), 2, widen=True).to_pylist() == ["x007", "x100"]
    with pytest.raises(ValueError, match="within"):
        ids("x", np.array([-1]), 2, widen=True)


def test_random_streams_depend_only_on_their_keys():
    assert rng(1, "a", 2).random(3).tolist() == rng(1, "a", 2).random(3).tolist()
    assert rng(1, "a", 2).random(3).tolist() != rng(1, "a", 3).random(3).tolist()
    whole = hashed_unit(9, "price", np.arange(100), np.array(4))
    part = hashed_unit(9, "price", np.arange(50, 60), np.array(4))
    assert np.array_equal(whole[50:60], part) and whole.min() >= 0 and whole.max() < 1
