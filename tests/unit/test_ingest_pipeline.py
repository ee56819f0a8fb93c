"""The ingest service lands chunk N in the background while it validates chunk N+1."""

import logging

import pytest

from ingestion import service
from ingestion.service import IngestSpec, ingest
from tests.unit.test_contracts import encode, order
from warehouse import logs
from warehouse.lake import batch_id_for


def spec(tmp_path, key="k1", chunk_rows=2) -> IngestSpec:
    return IngestSpec(tmp_path, 7, "order", "ndjson", False, key, "api", 1 << 20, chunk_rows)


def body(n: int, bad: set[int] = frozenset()) -> bytes:
    records = [order(i) for i in range(1, n + 1)]
    for row in bad:
        records[row - 1]["total_minor"] = 1  # does not add up
    return b"\n".join(encode(r) for r in records) + b"\n"


def test_outcomes_are_counted_in_chunk_order(tmp_path):
    result, _ = ingest(spec(tmp_path), [body(7, bad={3, 4, 6})])
    assert (result.rows_received, result.rows_inserted, result.rows_failed) == (7, 4, 3)
    assert [e["row"] for e in result.errors] == [3, 4, 6]
    # Chunk 1 (rows 3-4) had no valid row, so it landed nothing.
    assert result.batch_ids == [batch_id_for(7, "k1", i) for i in (0, 2, 3)]


def test_a_failed_landing_fails_the_request_after_earlier_chunks_landed(tmp_path, monkeypatch):
    landed = []

    def land_batch(root, tenant, batch_id, tables, **kwargs):
        if len(landed) == 1:
            raise OSError("disk full")
        landed.append(batch_id)

    monkeypatch.setattr(service, "land_batch", land_batch)
    with pytest.raises(OSError, match="disk full"):
        ingest(spec(tmp_path), [body(6)])
    assert landed == [batch_id_for(7, "k1", 0)]


def test_landing_logs_carry_the_request_id(tmp_path, caplog):
    with logs.bound(request_id="req-1"), caplog.at_level(logging.INFO, "warehouse.lake.writer"):
        ingest(spec(tmp_path), [body(3)])
    landed = [r for r in caplog.records if r.getMessage() == "batch landed"]
    assert len(landed) == 2
    assert {r._context.get("request_id") for r in landed} == {"req-1"}
