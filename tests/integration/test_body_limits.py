"""Body size limits: 413 problem+json (never 500) with or without Content-Length; larger limits
for the views that ask for them."""

from __future__ import annotations

import http.client
import io
import json
import threading

import pytest
from flask import Blueprint, request
from pydantic import BaseModel
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from serving.api import Body, operation
from serving.protection import BODY_LIMIT_ATTR, accepts_large_body

SMALL = "/api/v1/body-probe/small"
LARGE = "/api/v1/body-probe/large"
UNREAD = "/api/v1/body-probe/unread"
INGESTION_STYLE = "/api/v1/body-probe/ingestion-style"
LIMIT, LARGE_LIMIT = 1024, 8192

probe = Blueprint("body_probe", __name__, url_prefix="/api/v1/body-probe")


class Payload(Body):
    data: str


class Size(BaseModel):
    size: int


@probe.post("/small")
@operation(body=Payload, response=Size, public=True)
def small_route(body: Payload) -> Size:
    """Parse a JSON body under the ordinary limit."""
    return Size(size=len(body.data))


@probe.post("/large")
@accepts_large_body("max_ingest_bytes")
@operation(response=Size, public=True)
def large_route() -> Size:
    """Read a body under the ingest limit."""
    return Size(size=len(request.get_data()))


@probe.post("/unread")
@operation(response=Size, public=True)
def unread_route() -> Size:
    """Answer without reading the body."""
    return Size(size=0)


def ingestion_style_route() -> dict:
    """Read a body under the limit its attribute names (as ingestion views, which cannot
    import serving, declare it)."""
    return {"size": len(request.get_data())}


setattr(ingestion_style_route, BODY_LIMIT_ATTR, "max_ingest_bytes")
probe.add_url_rule("/ingestion-style", view_func=ingestion_style_route, methods=["POST"])


@pytest.fixture
def settings(settings):
    return settings.replace(max_body_bytes=LIMIT, max_ingest_bytes=LARGE_LIMIT)


@pytest.fixture
def app(app):
    app.register_blueprint(probe)
    return app


def json_body(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes."""
    return json.dumps({"data": "x" * (size - len('{"data": ""}'))}).encode()


def chunked(client, path: str, body: bytes):
    """POST ``body`` as a server hands over a chunked request: no Content-Length, stream ends."""
    builder = EnvironBuilder(
        path=path,
        method="POST",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]  # a server decoding chunks knows no length up front
    return client.open(Request(environ))  # a Request keeps the environ exactly as built


def sized(client, path: str, body: bytes):
    return client.post(path, data=body, content_type="application/json")


def assert_too_large(response, limit: int) -> None:
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/payload-too-large")
    assert response.json["errors"] == [{"field": "body", "reason": f"at most {limit} bytes"}]


@pytest.mark.parametrize("send", [sized, chunked], ids=["content-length", "chunked"])
def test_a_body_within_the_limit_is_accepted(client, send):
    response = send(client, SMALL, json_body(LIMIT))
    assert response.status_code == 200
    assert response.json["size"] > 0


@pytest.mark.parametrize("send", [sized, chunked], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_gets_413(client, send):
    assert_too_large(send(client, SMALL, json_body(LIMIT + 1)), LIMIT)


def test_a_declared_oversize_is_refused_even_where_the_body_is_not_read(client):
    assert_too_large(sized(client, UNREAD, b"x" * (LIMIT + 1)), LIMIT)


@pytest.mark.parametrize("path", [LARGE, INGESTION_STYLE])
@pytest.mark.parametrize("send", [sized, chunked], ids=["content-length", "chunked"])
def test_a_view_may_raise_its_own_limit(client, send, path):
    assert send(client, path, b"x" * (LIMIT * 4)).json == {"size": LIMIT * 4}
    assert_too_large(send(client, path, b"x" * (LARGE_LIMIT + 1)), LARGE_LIMIT)


@pytest.mark.parametrize("name", ["no_such_setting", "cors_origins"])
def test_a_raised_limit_must_name_an_integer_setting(name):
    with pytest.raises(ValueError):
        accepts_large_body(name)


@pytest.fixture
def server(app):
    """The app on a real HTTP server, which decodes chunked bodies itself."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.mark.parametrize("chunked_encoding", [True, False], ids=["chunked", "content-length"])
def test_a_real_server_answers_oversize_bodies_with_413(server, chunked_encoding):
    body = json_body(LIMIT * 3)
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        if chunked_encoding:
            blocks = iter([body[:1000], body[1000:2000], body[2000:]])
            connection.request(
                "POST",
                SMALL,
                body=blocks,
                encode_chunked=True,
                headers={"Content-Type": "application/json"},
            )
        else:
            connection.request(
                "POST", SMALL, body=body, headers={"Content-Type": "application/json"}
            )
        response = connection.getresponse()
        payload = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/problem+json"
    assert payload["type"].endswith("/payload-too-large")
