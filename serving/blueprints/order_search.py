"""Order search, streamed: ``GET /api/v1/orders/search/`` (and under /tenants/<id>/).

Up to 100,000 orders per page are written batch by batch as DuckDB hands them over, so memory
stays flat whatever the page size. The first batch is read before the response starts, so a bad
query is still a proper problem response; headers are gone by the time the page ends, so the
next cursor travels in the body, not in a ``Link`` header:

* ``format=json`` (default): ``{"data": [...], "next_cursor": ..., "count": N}``, the cursor
  after the array;
* ``format=ndjson`` or ``Accept: application/x-ndjson``: one order per line, then a last line
  ``{"_page": {"next_cursor": ..., "count": N}}``.

A body without that ending was cut short. Should reading fail midway, the stream ends with an
``error`` member (JSON) or an ``{"_error": ...}`` line (NDJSON) holding a ``resume_cursor``
just past the last order sent. Cursors are signed for the tenant and the filter set (see
:mod:`warehouse.search`), so another tenant's or another query's cursor is a 400.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import msgspec
from flask import Blueprint, Response, request, stream_with_context

from serving.api import JSON_MIME, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant
from serving.entities.context import store
from serving.pagination import Keyset, decode_cursor, encode_cursor
from serving.schemas.search import OrderSearchQuery, SearchPage
from warehouse.search import SearchStream, cursor_scope, make_search, open_search

bp = Blueprint("order_search", __name__, url_prefix="/api/v1/orders")
log = logging.getLogger("shoplake.search")

NDJSON_MIME = "application/x-ndjson"
_encode = msgspec.json.Encoder().encode
Sign = Callable[[tuple | None], str | None]


@bp.get("/search/")
@require(Permission.DATA_READ)
@operation(query=OrderSearchQuery, response=SearchPage, errors=(400, 422))
def search_orders(query: OrderSearchQuery) -> Response:
    """Search orders by date, products, total, status and customer; stream signed pages."""
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    search = make_search(tenant.timezone, **query.filters())
    keyset = Keyset(cursor_scope(tenant.id, search), sort=None, id=None)
    after = decode_cursor(keyset, query.cursor) if query.cursor else None
    page = open_search(store(), search, query.limit, after)
    ndjson = _wants_ndjson(query.format)
    body = (_ndjson if ndjson else _json)(page, lambda key: key and encode_cursor(keyset, *key))
    response = Response(stream_with_context(body), mimetype=NDJSON_MIME if ndjson else JSON_MIME)
    response.call_on_close(page.close)
    response.headers["Cache-Control"] = "no-store"
    return response


search_orders.openapi.content_types = (JSON_MIME, NDJSON_MIME)  # type: ignore[attr-defined]


def _wants_ndjson(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "ndjson"
    return request.accept_mimetypes.best_match([JSON_MIME, NDJSON_MIME]) == NDJSON_MIME


def _ndjson(page: SearchStream, sign: Sign) -> Iterator[bytes]:
    try:
        for batch in page.batches():
            yield b"".join(_encode(record) + b"\n" for record in batch)
    except Exception:
        log.exception("order search stream failed after %d records", page.count)
        yield _encode({"_error": _failure(page, sign)}) + b"\n"
        return
    yield _encode({"_page": {"next_cursor": sign(page.next_key), "count": page.count}}) + b"\n"


def _json(page: SearchStream, sign: Sign) -> Iterator[bytes]:
    yield b'{"data":['
    separator = b""
    try:
        for batch in page.batches():
            yield separator + b",".join(_encode(record) for record in batch)
            separator = b","
    except Exception:
        log.exception("order search stream failed after %d records", page.count)
        yield b'],"next_cursor":null,"count":%d,"error":%s}' % (
            page.count,
            _encode(_failure(page, sign)),
        )
        return
    tail = {"next_cursor": sign(page.next_key), "count": page.count}
    yield b"]," + _encode(tail)[1:]


def _failure(page: SearchStream, sign: Sign) -> dict:
    return {
        "status": 500,
        "title": "Internal Server Error",
        "detail": "The search stopped early; continue with resume_cursor.",
        "resume_cursor": sign(page.last_key),
    }
