"""Request ids are echoed, and every access-log line names request, tenant and principal."""

import json
import logging

from warehouse.logs import JsonFormatter


def test_request_id_is_generated_and_echoed(client):
    response = client.get("/healthz")
    assert len(response.headers["X-Request-ID"]) == 32


def test_caller_request_id_is_kept_when_safe(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )


def test_unsafe_request_id_is_replaced(client):
    unsafe = "bad id <script>" + "x" * 200
    response = client.get("/healthz", headers={"X-Request-ID": unsafe})
    assert response.headers["X-Request-ID"] != unsafe
    assert len(response.headers["X-Request-ID"]) == 32


def test_access_log_names_request_tenant_and_principal(client, make, caplog):
    tenant = make.tenant()
    headers = make.key_headers(tenant, "read")
    with caplog.at_level(logging.INFO, logger="shoplake.access"):
        response = client.get("/healthz", headers=headers)
    records = [r for r in caplog.records if r.name == "shoplake.access"]
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["status"] == response.status_code == 200
    assert line["path"] == "/healthz"
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["principal"].startswith("key:")
    assert line["tenant_id"] == tenant.id
