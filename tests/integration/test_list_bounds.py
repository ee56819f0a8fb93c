"""Lists sorted by created_at read only the base row groups a page needs; pages never change.

The row-group statistics are faked (cut in time order, one per order, or overlapping in id
order) so a tiny preset exercises the bound; the expected pages are the unbounded ones and,
independently, the preset's NDJSON orders sorted here.
"""

from __future__ import annotations

import pytest

from tests.integration.test_order_search import (
    BERLIN,
    fake_row_groups,
    headers_for,
    instant,
    lines_of,
    moved_keeping_one_line,
    records,
    settle,
)
from warehouse.entities import listing

URL = "/api/v1/orders/"
ROW_GROUPS = "warehouse.search.window.row_groups"


def walk(client, headers, limit, **params):
    """Return the ids of every record of every page, and the number of pages."""
    found, pages = walk_records(client, headers, limit, **params)
    return [record["id"] for record in found], pages


def walk_records(client, headers, limit, **params):
    """Return every record of every page, and the number of pages."""
    found, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get(URL, query_string=query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        found += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return found, pages


def expected(orders, params) -> list[str]:
    matching = [o for o in orders if params.get("status") in (None, o["status"])]
    descending = params.get("sort", "-created_at").startswith("-")
    key = lambda o: (instant(o["created_at"]), o["id"])  # noqa: E731
    return [o["id"] for o in sorted(matching, key=key, reverse=descending)]


@pytest.fixture
def shop(served):
    settle(served)
    return served.app.test_client(), headers_for(served, BERLIN), records(served, BERLIN, "orders")


@pytest.mark.parametrize(("size", "by_id"), [(7, False), (1, False), (11, True)])
@pytest.mark.parametrize(
    "params", [{}, {"sort": "created_at"}, {"status": "cancelled"}, {"status": "fulfilled"}]
)
def test_pages_bounded_by_row_group_statistics_are_the_true_pages(
    shop, monkeypatch, size, by_id, params
):
    client, headers, orders = shop
    monkeypatch.setattr(ROW_GROUPS, lambda *_: None)  # no statistics: every read unbounded
    whole, _ = walk(client, headers, 1000, **params)
    assert whole == expected(orders, params)
    monkeypatch.setattr(ROW_GROUPS, lambda *_: fake_row_groups(orders, size, by_id))
    found, pages = walk(client, headers, 9, **params)
    assert found == whole and pages > 1


def test_a_full_bounded_page_is_not_asked_again_and_a_short_one_is(shop, monkeypatch):
    client, headers, orders = shop
    monkeypatch.setattr(ROW_GROUPS, lambda *_: fake_row_groups(orders, 7))
    calls = []
    select = listing.reader.select

    def counting(store, entity, build, keys=None, span=None, resolved=None):
        if entity == "orders":  # not the lines of the page's orders
            calls.append(span is not None)
        return select(store, entity, build, keys, span, resolved)

    monkeypatch.setattr(listing.reader, "select", counting)
    assert client.get(URL, query_string={"limit": 5}, headers=headers).status_code == 200
    assert calls == [True]
    calls.clear()
    # Few orders are cancelled: the bounded read comes back short and is asked unbounded.
    cancelled = {"limit": 5, "status": "cancelled"}
    assert client.get(URL, query_string=cancelled, headers=headers).status_code == 200
    assert calls == [True, False]


@pytest.mark.parametrize("params", [{}, {"sort": "created_at"}, {"status": "cancelled"}])
def test_an_order_moved_in_time_by_an_update_is_listed_at_its_new_place(
    served, shop, monkeypatch, params
):
    # The update lives in the raw tail, which a bounded page reads only for keys with a
    # version within its bound; the order's snapshot version, at its old place, must not be
    # listed as well.
    client, _read, orders = shop
    headers = headers_for(served, BERLIN, "read", "write")
    moved = sorted(orders, key=lambda o: instant(o["created_at"]))[len(orders) // 2]
    change = moved_keeping_one_line(moved, "2026-06-15T08:00:00+00:00")
    response = client.patch(f"{URL}{moved['id']}/", json=change, headers=headers)
    assert response.status_code == 200, response.get_json()
    current = {o["id"]: {**o, **change} if o["id"] == moved["id"] else o for o in orders}
    monkeypatch.setattr(ROW_GROUPS, lambda *_: fake_row_groups(orders, 7))
    found, _pages = walk_records(client, headers, 9, **params)
    assert [record["id"] for record in found] == expected(list(current.values()), params)
    # Each order's lines come with it from the same bounded read: its own, the newest ones.
    for record in found:
        assert record["items"] == lines_of(current[record["id"]]), record["id"]
