"""Resumable uploads: chunks in any order, resend one, complete once, expire and clean up."""

import gzip
import json
from datetime import timedelta

import pytest

from ingestion import uploads
from warehouse.controldb.models import UploadSession, utcnow
from warehouse.lake import read_table

TS = "2026-03-01T10:00:00Z"
LINES = [
    json.dumps(
        {"id": f"c{i}", "email": f"c{i}@x.example", "created_at": TS, "updated_at": TS}
    ).encode()
    + b"\n"
    for i in range(30)
]
BODY = b"".join(LINES)


@pytest.fixture
def shop(make):
    tenant = make.tenant("acme")
    return tenant, make.key_headers(tenant, "ingest")


def split(data: bytes, parts: int) -> list[bytes]:
    # Cut at arbitrary bytes, not lines: completion must join chunks back into one body.
    size = -(-len(data) // parts)
    return [data[i : i + size] for i in range(0, len(data), size)]


def open_upload(client, headers, **fields):
    response = client.post(
        "/api/v1/uploads/", json={"entity": "customer", **fields}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["upload_id"]


def put(client, headers, upload_id, index, data):
    return client.put(
        f"/api/v1/uploads/{upload_id}/chunks/{index}",
        data=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def test_chunks_in_any_order_then_complete(app, client, shop):
    tenant, headers = shop
    chunks = split(BODY, 4)
    upload_id = open_upload(client, headers, total_chunks=4)
    for index in (3, 0, 2):
        assert put(client, headers, upload_id, index, chunks[index]).status_code == 200
    state = client.get(f"/api/v1/uploads/{upload_id}/", headers=headers).get_json()
    assert state["missing"] == [1] and sorted(state["chunks"]) == ["0", "2", "3"]
    assert client.post(f"/api/v1/uploads/{upload_id}/complete", headers=headers).status_code == 409
    put(client, headers, upload_id, 1, chunks[1])
    done = client.post(f"/api/v1/uploads/{upload_id}/complete", headers=headers)
    assert done.status_code == 200 and done.get_json()["rows_inserted"] == 30
    again = client.post(f"/api/v1/uploads/{upload_id}/complete", headers=headers)
    assert again.get_json() == done.get_json()
    lake = app.config["SHOPLAKE"].lake_root
    assert read_table(lake, "customers", tenant.id).num_rows == 30


def test_resending_a_chunk_replaces_it(app, client, shop):
    tenant, headers = shop
    chunks = split(BODY, 2)
    upload_id = open_upload(client, headers, total_chunks=2)
    put(client, headers, upload_id, 0, b"garbage that broke in transit")
    put(client, headers, upload_id, 0, chunks[0])
    reply = put(client, headers, upload_id, 1, chunks[1]).get_json()
    assert reply["size"] == len(chunks[1])
    result = client.post(f"/api/v1/uploads/{upload_id}/complete", headers=headers).get_json()
    assert result["rows_inserted"] == 30 and result["rows_failed"] == 0


def test_gzip_upload(app, client, shop):
    _tenant, headers = shop
    chunks = split(gzip.compress(BODY), 3)
    upload_id = open_upload(client, headers, total_chunks=3, content_encoding="gzip")
    for index, chunk in enumerate(chunks):
        put(client, headers, upload_id, index, chunk)
    result = client.post(f"/api/v1/uploads/{upload_id}/complete", headers=headers).get_json()
    assert result["rows_inserted"] == 30


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"entity": "spaceship"}, "entity"),  # unknown entity
        ({"entity": "customer", "total_chunks": 0}, "total_chunks"),  # nonsense count
        ({"entity": "customer", "content_type": "text/csv"}, "content_type"),  # unsupported
    ],
)
def test_bad_session_requests_are_422(client, shop, fields, field):
    _tenant, headers = shop
    response = client.post("/api/v1/uploads/", json=fields, headers=headers)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.get_json()["errors"]}


def test_chunk_index_out_of_range_is_422(client, shop):
    _tenant, headers = shop
    upload_id = open_upload(client, headers, total_chunks=2)
    assert put(client, headers, upload_id, 2, b"x").status_code == 422


def test_another_tenant_cannot_see_or_feed_a_session(client, make, shop):
    _tenant, headers = shop
    upload_id = open_upload(client, headers, total_chunks=1)
    other = make.key_headers(make.tenant("other"), "ingest")
    assert client.get(f"/api/v1/uploads/{upload_id}/", headers=other).status_code == 404
    assert put(client, other, upload_id, 0, BODY).status_code == 404
    assert client.post(f"/api/v1/uploads/{upload_id}/complete", headers=other).status_code == 404


def test_expired_sessions_are_swept_with_their_files(app, client, shop):
    _tenant, headers = shop
    upload_id = open_upload(client, headers, total_chunks=1)
    put(client, headers, upload_id, 0, BODY)
    sessions = app.extensions["shoplake.sessions"]
    with sessions.begin() as session:
        session.get(UploadSession, upload_id).expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(f"/api/v1/uploads/{upload_id}/", headers=headers).status_code == 404
    settings = app.config["SHOPLAKE"]
    store = uploads.UploadStore(settings.var_dir / "uploads", timedelta(hours=1))
    assert uploads.sweep_expired(sessions, store) == 1
    assert not any((settings.var_dir / "uploads").rglob("*.part"))
