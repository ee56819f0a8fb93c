"""Order search over the tiny preset: filters, projection, streamed formats and signed cursors.

Expected results are computed here from the preset's NDJSON records, never with the SQL under
test. Orders are ordered by (created_at, id) in UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import Factory
from warehouse.controldb import transaction
from warehouse.controldb.models import Tenant

URL = "/api/v1/orders/search/"
BERLIN, PACIFIC = "kaffeehaus-berlin", "pacific-outfitters"
ZONES = {BERLIN: ZoneInfo("Europe/Berlin"), PACIFIC: ZoneInfo("America/Los_Angeles")}


def records(served, slug, entity):
    path = served.published.records / slug / f"{entity}.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def ordered(orders, descending=False):
    return sorted(orders, key=lambda o: (instant(o["created_at"]), o["id"]), reverse=descending)


def ids(orders):
    return [o["id"] for o in orders]


def headers_for(served, slug, *scopes):
    make = Factory(served.app)
    with transaction(make.sessions) as session:
        tenant = session.get(Tenant, served.tenant_ids[slug])
    return make.key_headers(tenant, *(scopes or ("read",)))


def get_json(client, headers, **params):
    response = client.get(URL, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def walk(client, headers, limit, **params):
    """Return every record of every page, and the number of pages."""
    found, cursor, pages = [], None, 0
    while True:
        page = get_json(
            client, headers, limit=limit, **params, **({"cursor": cursor} if cursor else {})
        )
        found += page["data"]
        pages += 1
        assert page["count"] == len(page["data"]) <= limit
        cursor = page["next_cursor"]
        if cursor is None:
            return found, pages


def problem_fields(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return {e["field"] for e in response.get_json()["errors"]}


@pytest.fixture
def berlin(served):
    client = served.app.test_client()
    return client, headers_for(served, BERLIN), records(served, BERLIN, "orders")


def test_without_filters_every_order_comes_in_key_order(berlin):
    client, headers, orders = berlin
    page = get_json(client, headers, limit=1000)
    assert ids(page["data"]) == ids(ordered(orders))
    assert page["next_cursor"] is None and page["count"] == len(orders) == 300
    newest_first = get_json(client, headers, limit=1000, sort="-created_at")
    assert ids(newest_first["data"]) == ids(ordered(orders, descending=True))


def local_day(order) -> date:
    return instant(order["created_at"]).astimezone(ZONES[BERLIN]).date()


def customer_matches(served, needle):
    customers = {c["id"]: c for c in records(served, BERLIN, "customers")}

    def test(order):
        customer = customers.get(order["customer_id"])
        if customer is None:
            return False
        name = f"{customer['first_name'] or ''} {customer['last_name'] or ''}".strip().lower()
        return needle.lower() in name or needle.lower() in customer["email"].lower()

    return test


FILTERS = {
    # a date range is a range of tenant-local days, both ends included
    "dates": ({"start": "2026-06-01", "end": "2026-06-30"},
              lambda s: lambda o: date(2026, 6, 1) <= local_day(o) <= date(2026, 6, 30)),
    # instants: start included, end excluded
    "instants": ({"start": "2026-06-01T12:00:00Z", "end": "2026-07-01T00:00:00+02:00"},
                 lambda s: lambda o: datetime(2026, 6, 1, 12, tzinfo=UTC)
                 <= instant(o["created_at"]) < datetime(2026, 6, 30, 22, tzinfo=UTC)),
    "products": ({"product_ids": "prod-0000003,prod-0000016"},
                 lambda s: lambda o: any(i["product_id"] in {"prod-0000003", "prod-0000016"}
                                         for i in o["items"])),
    "price": ({"min_total_minor": 10000, "max_total_minor": 30000},
              lambda s: lambda o: 10000 <= o["total_minor"] <= 30000),
    "one status": ({"status": "fulfilled"}, lambda s: lambda o: o["status"] == "fulfilled"),
    "statuses": ({"status": ["paid", "cancelled"]},
                 lambda s: lambda o: o["status"] in {"paid", "cancelled"}),
    "name, any case": ({"q": "KRÜGER"}, lambda s: customer_matches(s, "krüger")),
    "email part": ({"q": "@posteo"}, lambda s: customer_matches(s, "@posteo")),
}  # fmt: skip


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_alone(served, berlin, name):
    client, headers, orders = berlin
    params, predicate = FILTERS[name]
    expected = ids(ordered(o for o in orders if predicate(served)(o)))
    assert 0 < len(expected) < len(orders), "the case should select some orders, not all"
    assert ids(get_json(client, headers, limit=1000, **params)["data"]) == expected


def test_filters_combine(served, berlin):
    client, headers, orders = berlin
    names = ("dates", "price", "one status")
    params = {k: v for name in names for k, v in FILTERS[name][0].items()}
    tests = [FILTERS[name][1](served) for name in names]
    expected = ids(ordered(o for o in orders if all(t(o) for t in tests)))
    assert expected
    assert ids(get_json(client, headers, limit=1000, **params)["data"]) == expected
    combined = {**FILTERS["dates"][0], **FILTERS["email part"][0], "status": "fulfilled"}
    tests = [FILTERS["dates"][1](served), customer_matches(served, "@posteo")]
    expected = [o["id"] for o in ordered(orders) if all(t(o) for t in tests)
                and o["status"] == "fulfilled"]  # fmt: skip
    assert ids(get_json(client, headers, limit=1000, **combined)["data"]) == expected


def moved_keeping_one_line(order, created_at):
    """Return a valid change moving ``order`` to ``created_at`` with its first line only."""
    line = order["items"][0]
    subtotal = line["quantity"] * line["unit_price_minor"] - (line["discount_minor"] or 0)
    extras = (order["tax_minor"] or 0) + (order["shipping_minor"] or 0)
    total = subtotal + extras - (order["discount_minor"] or 0)
    return {"created_at": created_at, "items": [line], "subtotal_minor": subtotal,
            "total_minor": total}  # fmt: skip


def lines_of(order):
    """Return an order's lines as search returns them: numbered, discount 0 when absent."""
    return [{**item, "discount_minor": item["discount_minor"] or 0, "line_number": n}
            for n, item in enumerate(order["items"], start=1)]  # fmt: skip


def email_of(customers, order):
    customer = customers.get(order["customer_id"])
    return customer["email"] if customer else None


def test_projection_returns_exactly_the_fields_asked_for(served, berlin):
    client, headers, orders = berlin
    customers = {c["id"]: c for c in records(served, BERLIN, "customers")}
    page = get_json(client, headers, limit=1000, fields="id,total_minor,customer_email,items")
    by_id = {o["id"]: o for o in orders}
    for record in page["data"]:
        assert list(record) == ["id", "total_minor", "customer_email", "items"]
        order = by_id[record["id"]]
        assert record["customer_email"] == email_of(customers, order)
        assert record["total_minor"] == order["total_minor"]
        assert record["items"] == lines_of(order)


def test_default_fields_are_the_order_record_without_items(served, berlin):
    client, headers, _orders = berlin
    page = get_json(client, headers, limit=5, status="fulfilled")
    for record in page["data"]:
        crud = client.get(f"/api/v1/orders/{record['id']}/", headers=headers).get_json()
        del crud["items"]
        assert record == crud


def test_customer_name_is_first_and_last(served, berlin):
    client, headers, orders = berlin
    customers = {c["id"]: c for c in records(served, BERLIN, "customers")}
    page = get_json(client, headers, limit=1000, fields=["id", "customer_name"])
    by_id = {o["id"]: o for o in orders}
    for record in page["data"]:
        customer = customers.get(by_id[record["id"]]["customer_id"])
        name = f"{customer['first_name']} {customer['last_name']}" if customer else None
        assert record["customer_name"] == name


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 100_001}, "limit"),
        ({"fields": "id,password"}, "fields"),  # not in the allow-list
        ({"start": "2026-07-01", "end": "2026-06-01"}, "end"),
        ({"start": "2026-07-01T10:00:00"}, "start"),  # an instant needs an offset
        ({"end": "2026-07-01T00:00:00"}, "end"),  # even at midnight
        ({"start": "July 1st"}, "start"),
        ({"min_total_minor": 500, "max_total_minor": 100}, "max_total_minor"),
        ({"status": "lost"}, "status.0"),
        ({"sort": "total_minor"}, "sort"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(berlin, params, field):
    client, headers, _orders = berlin
    response = client.get(URL, query_string=params, headers=headers)
    assert field in problem_fields(response, 422)


def test_unknown_field_is_named_in_the_reason(berlin):
    client, headers, _orders = berlin
    response = client.get(URL, query_string={"fields": "id,secret"}, headers=headers)
    assert "secret" in response.get_json()["errors"][0]["reason"]


@pytest.mark.parametrize("params", [{}, {"sort": "-created_at"}, {"status": ["paid", "fulfilled"]}])
def test_walking_every_page_equals_one_big_page(berlin, params):
    client, headers, _orders = berlin
    whole = get_json(client, headers, limit=100_000, **params)["data"]
    found, pages = walk(client, headers, 37, **params)
    assert pages == -(-len(whole) // 37)
    assert found == whole


def ndjson_lines(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


@pytest.mark.parametrize(
    ("query", "accept"),
    [({"format": "ndjson"}, None), ({}, "application/x-ndjson"), ({"format": "ndjson"}, "*/*")],
)
def test_ndjson_pages_end_with_a_page_line(berlin, query, accept):
    client, headers, orders = berlin
    headers = {**headers, **({"Accept": accept} if accept else {})}
    lines = ndjson_lines(client.get(URL, query_string={"limit": 120, **query}, headers=headers))
    assert ids(lines[:-1]) == ids(ordered(orders))[:120]
    trailer = lines[-1]["_page"]
    assert trailer["count"] == 120 and trailer["next_cursor"]
    rest = client.get(URL, query_string={"limit": 1000, "cursor": trailer["next_cursor"], **query},
                      headers=headers)  # fmt: skip
    lines = ndjson_lines(rest)
    assert ids(lines[:-1]) == ids(ordered(orders))[120:]
    assert lines[-1] == {"_page": {"next_cursor": None, "count": 180}}


def test_json_is_chosen_when_the_client_prefers_it(berlin):
    client, headers, _orders = berlin
    accept = {"Accept": "application/json, application/x-ndjson;q=0.5"}
    response = client.get(URL, query_string={"limit": 3}, headers={**headers, **accept})
    assert response.mimetype == "application/json" and len(response.get_json()["data"]) == 3


def test_an_empty_result_is_a_valid_page(berlin):
    client, headers, _orders = berlin
    page = get_json(client, headers, q="no customer is called this")
    assert page == {"data": [], "next_cursor": None, "count": 0}
    response = client.get(
        URL, query_string={"q": "nobody at all", "format": "ndjson"}, headers=headers
    )
    assert ndjson_lines(response) == [{"_page": {"next_cursor": None, "count": 0}}]


def new_order(client, headers, order_id, created_at, status="paid"):
    item = {"product_id": "prod-0000001", "sku": "APP-000001", "name": "Tee", "quantity": 1,
            "unit_price_minor": 1000, "discount_minor": 0}  # fmt: skip
    body = {"id": order_id, "order_number": order_id, "status": status, "subtotal_minor": 1000,
            "total_minor": 1000, "items": [item], "created_at": created_at}  # fmt: skip
    response = client.post("/api/v1/orders/", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()


def test_a_cursor_survives_inserts_updates_and_deletes_between_pages(served, berlin):
    client, _read, orders = berlin
    headers = headers_for(served, BERLIN, "read", "write")
    order = ordered(orders)
    first = get_json(client, headers, limit=100)
    assert ids(first["data"]) == ids(order[:100])
    position = instant(order[99]["created_at"])
    # Inserted behind the position: never shown; ahead of it: shown once, in order.
    new_order(client, headers, "new-before", (position - timedelta(days=1)).isoformat())
    new_order(client, headers, "new-ahead", (position + timedelta(seconds=1)).isoformat())
    new_order(client, headers, "new-last", "2027-01-01T00:00:00+00:00")
    # The row the cursor names, one behind it and one ahead are deleted.
    for gone in (order[99]["id"], order[10]["id"], order[150]["id"]):
        assert client.delete(f"/api/v1/orders/{gone}/", headers=headers).status_code == 204
    # An order ahead changes status (a new version, created_at kept).
    updated = next(o for o in order[100:] if o["status"] == "paid")
    change = {"status": "fulfilled"}
    assert client.post(f"/api/v1/orders/{updated['id']}/update_status/", json=change,
                       headers=headers).status_code == 200  # fmt: skip
    rest, _pages = walk_from(client, headers, first["next_cursor"], 40)
    expected = [o for o in order[100:] if o["id"] != order[150]["id"]]
    expected_ids = [o["id"] for o in expected] + ["new-last"]
    ahead_at = next(i for i, o in enumerate(expected) if instant(o["created_at"]) > position)
    expected_ids.insert(ahead_at, "new-ahead")
    assert ids(rest) == expected_ids
    assert next(r for r in rest if r["id"] == updated["id"])["status"] == "fulfilled"


def walk_from(client, headers, cursor, limit):
    found, pages = [], 0
    while cursor:
        page = get_json(client, headers, limit=limit, cursor=cursor)
        found, pages, cursor = found + page["data"], pages + 1, page["next_cursor"]
    return found, pages


def first_cursor(client, headers, **params):
    cursor = get_json(client, headers, limit=10, **params)["next_cursor"]
    assert cursor
    return cursor


def test_a_changed_cursor_is_refused(berlin):
    client, headers, _orders = berlin
    cursor = first_cursor(client, headers)
    for bad in (cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"), "garbage", cursor[5:]):
        response = client.get(URL, query_string={"cursor": bad}, headers=headers)
        assert problem_fields(response, 400) == {"cursor"}


def test_a_cursor_only_continues_its_own_query(berlin):
    client, headers, _orders = berlin
    cursor = first_cursor(client, headers, status="fulfilled", min_total_minor=100)
    same = {"cursor": cursor, "status": "fulfilled", "min_total_minor": 100}
    # limit and fields may change between pages; the filters may not
    assert client.get(URL, query_string={**same, "limit": 5, "fields": "id"},
                      headers=headers).status_code == 200  # fmt: skip
    for other in ({"min_total_minor": 101}, {"status": "paid"}, {"q": "a"},
                  {"sort": "-created_at"}, {"min_total_minor": None}):  # fmt: skip
        params = {k: v for k, v in {**same, **other}.items() if v is not None}
        assert problem_fields(client.get(URL, query_string=params, headers=headers), 400) == {
            "cursor"
        }


def test_another_tenants_cursor_is_refused(served, berlin):
    client, headers, _orders = berlin
    cursor = first_cursor(client, headers)
    pacific = headers_for(served, PACIFIC)
    response = client.get(URL, query_string={"cursor": cursor}, headers=pacific)
    assert problem_fields(response, 400) == {"cursor"}


def test_each_tenant_sees_only_its_own_orders(served):
    client = served.app.test_client()
    for slug in (BERLIN, PACIFIC):
        expected = [
            (o["id"], o["currency"], o["total_minor"])
            for o in ordered(records(served, slug, "orders"))
        ]
        page = get_json(
            client, headers_for(served, slug), limit=1000, fields="id,currency,total_minor"
        )
        assert [(r["id"], r["currency"], r["total_minor"]) for r in page["data"]] == expected


def test_the_tenant_path_form_answers_for_its_own_tenant_only(served, berlin):
    client, headers, orders = berlin
    own = f"/api/v1/tenants/{served.tenant_ids[BERLIN]}/orders/search/"
    response = client.get(own, query_string={"limit": 1000, "fields": "id"}, headers=headers)
    assert response.status_code == 200 and ids(response.get_json()["data"]) == ids(ordered(orders))
    other = f"/api/v1/tenants/{served.tenant_ids[PACIFIC]}/orders/search/"
    assert client.get(other, headers=headers).status_code == 403
    assert (
        client.get(
            URL, headers={**headers, "X-Tenant-ID": str(served.tenant_ids[PACIFIC])}
        ).status_code
        == 403
    )


def test_search_needs_data_read(served):
    client = served.app.test_client()
    response = client.get(URL, headers=headers_for(served, BERLIN, "ingest"))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert client.get(URL).status_code == 401


def test_a_page_read_in_many_chunks_equals_one_read_at_once(berlin, monkeypatch):
    client, headers, orders = berlin
    whole = get_json(client, headers, limit=1000, fields="id,total_minor,items")["data"]
    monkeypatch.setattr("warehouse.search.stream.CHUNK_ROWS", 23)
    chunked = get_json(client, headers, limit=1000, fields="id,total_minor,items")
    assert chunked["data"] == whole and ids(whole) == ids(ordered(orders))
    page = get_json(client, headers, limit=100, sort="-created_at")
    assert ids(page["data"]) == ids(ordered(orders, descending=True))[:100]
    assert page["next_cursor"]


def failing_after(monkeypatch, chunks):
    """Make every chunk after the first ``chunks`` fail, as a vanished disk would."""
    from warehouse.search.stream import SearchStream

    run, calls = SearchStream._run, []

    def flaky(self, after):
        calls.append(after)
        if len(calls) > chunks:
            raise OSError("disk gone")
        return run(self, after)

    monkeypatch.setattr("warehouse.search.stream.CHUNK_ROWS", 50)
    monkeypatch.setattr(SearchStream, "_run", flaky)


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_a_failure_midway_ends_the_body_with_an_error_and_a_resume_cursor(berlin, monkeypatch, fmt):
    client, headers, orders = berlin
    failing_after(monkeypatch, 2)
    response = client.get(URL, query_string={"limit": 1000, "format": fmt}, headers=headers)
    assert response.status_code == 200  # the headers were sent before the failure
    if fmt == "json":
        body = response.get_json()
        sent, error = body["data"], body["error"]
        assert body["next_cursor"] is None and body["count"] == 100
    else:
        lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
        sent, error = lines[:-1], lines[-1]["_error"]
    assert ids(sent) == ids(ordered(orders))[:100] and error["status"] == 500
    monkeypatch.undo()
    rest = get_json(client, headers, limit=1000, cursor=error["resume_cursor"])
    assert ids(sent + rest["data"]) == ids(ordered(orders))


def test_a_failure_before_the_first_row_is_a_problem_response(berlin, monkeypatch):
    client, headers, _orders = berlin
    failing_after(monkeypatch, 0)
    response = client.get(URL, headers=headers)
    assert response.status_code == 500 and response.mimetype == "application/problem+json"


def settle(served):
    """Start the copy's raw tail at its build's watermark, so reads take orders from the snapshot.

    The session build ran right after the data landed, so its recorded tail covers every row
    and reads take them all from the raw zone; a shop in its steady state reads the snapshot,
    whose scans the statistics bound narrows.
    """
    from warehouse.publish import current_build_id
    from warehouse.publish.layout import MANIFEST, snapshots_dir

    # Before any read: a manifest is cached by its path once read.
    build_id = current_build_id(served.var_dir)
    manifest = snapshots_dir(served.var_dir) / build_id / MANIFEST
    recorded = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**recorded, "tail_from": recorded["watermark"]}))


def fake_row_groups(orders, size, by_id=False):
    """Row groups of ``size`` orders, in time order or (overlapping) in id order."""
    from warehouse.search.window import RowGroup

    rows = sorted(orders, key=lambda o: o["id"]) if by_id else ordered(orders)
    groups = []
    for first in range(0, len(rows), size):
        instants = [instant(o["created_at"]) for o in rows[first : first + size]]
        groups.append(RowGroup(min(instants), max(instants), len(instants)))
    return groups


@pytest.mark.parametrize(("size", "by_id"), [(7, False), (1, False), (11, True)])
@pytest.mark.parametrize(
    "params", [{}, {"sort": "-created_at"}, {"status": "cancelled"}, FILTERS["dates"][0],
               {**FILTERS["dates"][0], "sort": "-created_at"}, {"q": "@posteo"}],
)  # fmt: skip
def test_chunks_bounded_by_row_group_statistics_return_the_same_pages(
    served, berlin, monkeypatch, size, by_id, params
):
    # The statistics only decide how far each chunk reads; pages must not change, however
    # the row groups are cut and however few of their rows match.
    settle(served)
    client, headers, orders = berlin
    whole = get_json(client, headers, limit=1000, **params)["data"]
    monkeypatch.setattr(
        "warehouse.search.window.row_groups", lambda *_: fake_row_groups(orders, size, by_id)
    )
    monkeypatch.setattr("warehouse.search.stream.CHUNK_ROWS", 13)
    assert get_json(client, headers, limit=1000, **params)["data"] == whole
    found, _pages = walk(client, headers, 29, **params)
    assert found == whole


def test_a_page_that_ends_exactly_at_the_last_match_has_no_cursor(berlin, monkeypatch):
    client, headers, orders = berlin
    monkeypatch.setattr("warehouse.search.window.row_groups", lambda *_: fake_row_groups(orders, 5))
    cancelled = get_json(client, headers, limit=1000, status="cancelled")["count"]
    page = get_json(client, headers, limit=cancelled, status="cancelled")
    assert page["count"] == cancelled and page["next_cursor"] is None
    shorter = get_json(client, headers, limit=cancelled - 1, status="cancelled")
    assert shorter["next_cursor"] is not None


@pytest.mark.parametrize(("size", "by_id"), [(7, False), (11, True)])
@pytest.mark.parametrize("params", [{}, {"sort": "-created_at"}, FILTERS["dates"][0]])
def test_bounded_chunks_bring_every_order_its_own_lines_and_customer(
    served, berlin, monkeypatch, size, by_id, params
):
    # A bounded chunk narrows the lines' base scan by their copy of the order's created_at
    # too. An order moved in time by an update takes its new lines from the raw tail.
    settle(served)
    client, _read, orders = berlin
    headers = headers_for(served, BERLIN, "read", "write")
    moved = ordered(orders)[40]
    change = moved_keeping_one_line(moved, "2026-06-15T08:00:00+00:00")
    response = client.patch(f"/api/v1/orders/{moved['id']}/", json=change, headers=headers)
    assert response.status_code == 200, response.get_json()
    current = [{**o, **change} if o["id"] == moved["id"] else o for o in orders]
    monkeypatch.setattr(
        "warehouse.search.window.row_groups", lambda *_: fake_row_groups(orders, size, by_id)
    )
    monkeypatch.setattr("warehouse.search.stream.CHUNK_ROWS", 13)
    found, pages = walk(client, headers, 29, fields="id,customer_email,items", **params)
    predicate = FILTERS["dates"][1](served) if params == FILTERS["dates"][0] else bool
    expected = ordered((o for o in current if predicate(o)), "sort" in params)
    customers = {c["id"]: c for c in records(served, BERLIN, "customers")}
    assert ids(found) == ids(expected) and pages > 1
    assert moved["id"] in ids(found)
    for record, order in zip(found, expected, strict=True):
        assert record["items"] == lines_of(order)
        assert record["customer_email"] == email_of(customers, order)
