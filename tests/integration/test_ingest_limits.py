"""Hostile and broken bodies get a clear 4xx; batches acknowledged before the fault stay intact."""

import gzip
import io
import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from ingestion.backpressure import IngestSlots
from warehouse.lake import read_table

TS = "2026-03-01T10:00:00Z"


def ndjson_lines(start, count):
    return b"".join(
        json.dumps(
            {"id": f"c{i}", "email": f"c{i}@x.example", "created_at": TS, "updated_at": TS}
        ).encode()
        + b"\n"
        for i in range(start, start + count)
    )


@pytest.fixture
def settings(settings):
    # Small batches and a small ceiling, so several batches land before the limit is hit.
    return settings.replace(ingest_chunk_rows=1000, max_ingest_bytes=2_500_000)


@pytest.fixture
def headers(make):
    tenant = make.tenant("acme")
    return tenant, {**make.key_headers(tenant, "ingest"), "Content-Type": "application/x-ndjson"}


def landed(app, tenant):
    table = read_table(app.config["SHOPLAKE"].lake_root, "customers", tenant.id)
    return table.num_rows


def test_truncated_gzip_is_400_and_complete_batches_stay(app, client, headers):
    tenant, h = headers
    data = gzip.compress(ndjson_lines(0, 5000))
    response = client.post(
        "/api/v1/ingest/customer/",
        data=data[: len(data) - 40],
        headers={**h, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 400
    body = response.get_json()
    assert "truncated" in body["detail"]
    assert body["batch_ids"] and body["rows_inserted"] == landed(app, tenant) > 0


def test_gzip_bomb_is_413(app, client, headers):
    tenant, h = headers
    bomb = gzip.compress(b" " * 50_000_000)  # ~50 KB on the wire, 50 MB inflated
    response = client.post(
        "/api/v1/ingest/customer/", data=bomb, headers={**h, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert landed(app, tenant) == 0


def post_chunked(client, headers, body: bytes):
    """POST as a server hands over a chunked request: no Content-Length, stream just ends."""
    builder = EnvironBuilder(
        path="/api/v1/ingest/customer/",
        method="POST",
        input_stream=io.BytesIO(body),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    return client.open(Request(environ))


def test_streamed_body_over_the_limit_is_413_and_earlier_batches_stay(app, client, headers):
    tenant, h = headers
    response = post_chunked(client, h, ndjson_lines(0, 40_000))  # ~3.4 MB
    assert response.status_code == 413
    body = response.get_json()
    assert body["rows_inserted"] == landed(app, tenant) > 0
    assert len(body["batch_ids"]) == body["rows_inserted"] // 1000


def test_declared_length_over_the_limit_is_refused_before_reading(app, client, headers):
    tenant, h = headers
    response = client.post(
        "/api/v1/ingest/customer/",
        data=b"x" * 10,
        headers=h,
        environ_overrides={"CONTENT_LENGTH": str(2 * 1024**3)},
    )
    assert response.status_code == 413
    assert landed(app, tenant) == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"[" * 100_000),  # a JSON bomb: deep nesting
        ("application/json", b'{"items": [1, 2]}'),  # no records array
        ("application/json", b'[{"id": "c1"'),  # truncated document
    ],
)
def test_broken_json_documents_are_400(client, headers, content_type, body):
    _tenant, h = headers
    response = client.post(
        "/api/v1/ingest/customer/", data=body, headers={**h, "Content-Type": content_type}
    )
    assert response.status_code == 400


def test_deeply_nested_record_is_a_row_error_not_a_crash(app, client, headers):
    tenant, h = headers
    deep = b'{"id": "c1", "tags": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
    response = client.post("/api/v1/ingest/customer/", data=deep + ndjson_lines(2, 1), headers=h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["rows_failed"] == 1 and body["errors"][0]["row"] == 1
    assert landed(app, tenant) == 1


def test_invalid_utf8_is_a_row_error(app, client, headers):
    tenant, h = headers
    response = client.post(
        "/api/v1/ingest/customer/",
        data=b'{"id": "c\xc3\x28", "email": "a@b.example"}\n' + ndjson_lines(5, 2),
        headers=h,
    )
    body = response.get_json()
    assert body["rows_failed"] == 1 and body["rows_inserted"] == 2
    assert landed(app, tenant) == 2


def test_backpressure_answers_429_with_queue_and_delay(app, client, headers):
    tenant, h = headers
    settings = app.config["SHOPLAKE"]
    slots = IngestSlots(settings.var_dir / "run" / "ingest-slots", settings.ingest_max_in_flight)
    held = [slots.acquire() for _ in range(settings.ingest_max_in_flight)]
    for slot in held:
        slot.__enter__()
    try:
        response = client.post("/api/v1/ingest/customer/", data=ndjson_lines(0, 3), headers=h)
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    body = response.get_json()
    assert body["queue_length"] == settings.ingest_max_in_flight and body["expected_delay_s"] >= 1
    assert landed(app, tenant) == 0
    assert (
        client.post("/api/v1/ingest/customer/", data=ndjson_lines(0, 3), headers=h).status_code
        == 200
    )
