"""Keyset pagination and signed cursors (serving.pagination)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from serving import close_app
from serving.errors import ApiError
from serving.pagination import Keyset, Page, decode_cursor, encode_cursor, paginate
from warehouse.controldb.models import Tenant

BY_NAME = Keyset("test-by-name", sort=Tenant.name, id=Tenant.id)
BY_NAME_DESC = Keyset("test-by-name-desc", sort=Tenant.name, id=Tenant.id, descending=True)


@pytest.mark.parametrize(
    "value",
    [
        "text",
        42,
        datetime(2024, 5, 1, 12, 30, tzinfo=UTC),  # tagged so it decodes as a datetime again
        Decimal("12.50"),  # tagged so it is not turned into a float
    ],
)
def test_cursor_round_trip(app, value):
    with app.app_context():
        assert decode_cursor(BY_NAME, encode_cursor(BY_NAME, value, 7)) == (value, 7)


def _refused(app, keyset: Keyset, cursor: str) -> ApiError:
    with app.app_context(), pytest.raises(ApiError) as caught:
        decode_cursor(keyset, cursor)
    return caught.value


def test_tampered_cursor_is_a_400_on_field_cursor(app):
    with app.app_context():
        cursor = encode_cursor(BY_NAME, "m", 3)
    payload, signature = cursor.rsplit(".", 1)
    for bad in (payload + "x." + signature, "garbage", cursor[:-2]):
        error = _refused(app, BY_NAME, bad)
        assert error.status == 400
        assert [e.field for e in error.errors] == ["cursor"]


def test_cursor_of_another_listing_is_refused(app):
    with app.app_context():
        cursor = encode_cursor(BY_NAME, "m", 3)
    assert _refused(app, BY_NAME_DESC, cursor).status == 400


def test_cursor_signed_with_another_secret_is_refused(app, settings):
    from serving import create_app

    other = create_app(settings.replace(secret_key="another-secret"))
    with other.app_context():
        cursor = encode_cursor(BY_NAME, "m", 3)
    close_app(other)
    assert _refused(app, BY_NAME, cursor).status == 400


def _walk(app, keyset: Keyset, limit: int) -> list[tuple[str, int]]:
    seen, cursor = [], None
    with app.app_context(), app.extensions["shoplake.sessions"]() as session:
        while True:
            rows, cursor = paginate(
                session, select(Tenant), keyset, Page(limit=limit, cursor=cursor)
            )
            assert len(rows) <= limit
            seen += [(t.name, t.id) for t in rows]
            if cursor is None:
                return seen


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_pages_cover_every_row_once_in_order_with_ties(app, make, limit):
    for name in ["b", "a", "b", "c", "a", "b", "a"]:  # ties are broken by id
        make.tenant(name=name)
    expected = sorted((t.name, t.id) for t in _all(app))
    assert _walk(app, BY_NAME, limit) == expected
    assert _walk(app, BY_NAME_DESC, limit) == expected[::-1]


def test_empty_listing_has_no_next_cursor(app):
    assert _walk(app, BY_NAME, 5) == []


def _all(app) -> list[Tenant]:
    with app.extensions["shoplake.sessions"]() as session:
        return list(session.scalars(select(Tenant)))


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_page_limit_is_bounded(limit):
    with pytest.raises(ValidationError):
        Page(limit=limit)
    assert Page().limit == 50
