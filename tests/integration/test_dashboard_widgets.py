"""Saved dashboard widgets: CRUD per user and tenant, config checked per kind, widget data.

A widget's data is the answer of the analytics endpoint its kind names; expected figures come
from the preset's NDJSON records. Other users' and other tenants' widgets are 404.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.analytics_support import SLUGS, Shop, key_headers, tenant_of, user_headers
from tests.factories import Factory
from warehouse.analytics import widgets
from warehouse.controldb.models import Role

URL = "/api/v1/analytics/widgets/"
BERLIN, PACIFIC = SLUGS[0], SLUGS[1]
OCTOBER = {"start_date": "2026-10-01", "end_date": "2026-10-31"}


@pytest.fixture
def alice(served):
    return served.app.test_client(), user_headers(served, BERLIN, Role.ANALYST)


def create(client, headers, **fields):
    response = client.post(URL, json={"title": "Widget", **fields}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_create_list_show_replace_patch_delete(alice):
    client, headers = alice
    sales = create(
        client, headers, kind="sales", title="Weekly sales", config={"days": 28, "interval": "week"}
    )
    overview = create(client, headers, kind="overview", title="Overview", position=0)
    assert sales["position"] == 0 and sales["config"] == {"days": 28, "interval": "week"}
    assert create(client, headers, kind="funnel")["position"] == 1  # placed after the last
    listed = client.get(URL, headers=headers).get_json()
    assert [w["id"] for w in listed["data"]][:2] == [sales["id"], overview["id"]]
    assert listed["next_cursor"] is None
    one = client.get(f"{URL}{sales['id']}/", headers=headers).get_json()
    assert one == sales
    replaced = client.put(
        f"{URL}{sales['id']}/", json={"kind": "customers", "title": "Buyers"}, headers=headers
    )
    assert replaced.status_code == 200
    assert replaced.get_json() | {"updated_at": None} == sales | {
        "kind": "customers",
        "title": "Buyers",
        "config": {},
        "updated_at": None,
    }
    patched = client.patch(
        f"{URL}{sales['id']}/", json={"position": 5, "config": OCTOBER}, headers=headers
    )
    assert patched.get_json()["position"] == 5 and patched.get_json()["config"] == OCTOBER
    assert client.delete(f"{URL}{sales['id']}/", headers=headers).status_code == 204
    assert client.get(f"{URL}{sales['id']}/", headers=headers).status_code == 404
    page = client.get(URL, query_string={"limit": 1}, headers=headers).get_json()
    assert len(page["data"]) == 1 and page["next_cursor"]


INVALID = [
    ({"kind": "pie", "title": "x"}, "kind"),  # not an analytics answer
    ({"kind": "sales", "title": ""}, "title"),
    ({"kind": "sales", "title": "x", "config": {"interval": "year"}}, "config.interval"),
    ({"kind": "sales", "title": "x", "config": {"bogus": 1}}, "config.bogus"),
    ({"kind": "overview", "title": "x", "config": {"days": 0}}, "config.days"),
    ({"kind": "overview", "title": "x",
      "config": {"start_date": "2026-10-31", "end_date": "2026-10-01"}}, "config.end_date"),
    ({"kind": "funnel", "title": "x", "config": {"start_date": "31.10."}}, "config.start_date"),
    ({"kind": "realtime", "title": "x", "config": {"days": 1}}, "config.days"),  # takes none
    ({"kind": "sales", "title": "x", "position": -1}, "position"),
]  # fmt: skip


def test_invalid_widgets_are_422_naming_the_field(alice):
    client, headers = alice
    for body, field in INVALID:
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == 422, (body, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        assert field in [e["field"] for e in response.get_json()["errors"]], body


def test_patch_rechecks_the_config_against_a_new_kind_and_refuses_nulls(alice):
    client, headers = alice
    widget = create(client, headers, kind="sales", config={"interval": "month"})
    url = f"{URL}{widget['id']}/"
    wrong = client.patch(url, json={"kind": "overview"}, headers=headers)
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.get_json()["errors"]] == ["config.interval"]
    null = client.patch(url, json={"title": None}, headers=headers)
    assert null.status_code == 422 and null.get_json()["errors"][0]["field"] == "title"
    assert client.get(url, headers=headers).get_json() == widget  # nothing changed
    fixed = client.patch(url, json={"kind": "overview", "config": {"limit": 3}}, headers=headers)
    assert fixed.status_code == 200 and fixed.get_json()["kind"] == "overview"


def test_widget_data_is_the_answer_of_its_kind(served, alice):
    client, headers = alice
    shop = Shop(served.published.records, BERLIN)
    overview = create(client, headers, kind="overview", config={**OCTOBER, "limit": 3})
    data = client.get(f"{URL}{overview['id']}/data/", headers=headers).get_json()
    assert data["widget"] == overview
    assert data["data"]["totals"] == shop.totals(date(2026, 10, 1), date(2026, 10, 31))
    direct = client.get("/api/v1/analytics/summary/overview/", query_string={**OCTOBER, "limit": 3},
                        headers=headers)  # fmt: skip
    assert data["data"] == direct.get_json()
    sales = create(client, headers, kind="sales", config={**OCTOBER, "interval": "week"})
    weeks = client.get(f"{URL}{sales['id']}/data/", headers=headers).get_json()["data"]
    assert weeks["interval"] == "week" and len(weeks["buckets"]) == 5
    assert (
        weeks["totals"]["total_minor"]
        == shop.totals(date(2026, 10, 1), date(2026, 10, 31))["revenue_minor"]
    )
    products = create(client, headers, kind="products", config={"limit": 2})
    top = client.get(f"{URL}{products['id']}/data/", headers=headers).get_json()["data"][
        "top_products"
    ]
    assert [
        (p["product_id"], p["revenue_minor"], p["units_sold"]) for p in top
    ] == shop.top_products(2)
    for kind in ("customers", "funnel", "realtime"):
        widget = create(client, headers, kind=kind)
        response = client.get(f"{URL}{widget['id']}/data/", headers=headers)
        assert response.status_code == 200, (kind, response.get_data(as_text=True))
    realtime = response.get_json()["data"]
    assert realtime["date"] == shop.today().isoformat() and realtime["currency"] == "EUR"


def test_other_users_and_tenants_cannot_see_or_touch_a_widget(served, alice):
    client, headers = alice
    widget = create(client, headers, kind="overview", title="Mine")
    url = f"{URL}{widget['id']}/"
    bob = user_headers(served, BERLIN, Role.ADMIN)  # even an admin of the same tenant
    assert client.get(URL, headers=bob).get_json()["data"] == []
    for method, path, body in [
        ("get", url, None), ("put", url, {"kind": "sales", "title": "Bob's"}),
        ("patch", url, {"title": "Bob's"}), ("delete", url, None), ("get", f"{url}data/", None),
    ]:  # fmt: skip
        response = getattr(client, method)(path, json=body, headers=bob)
        assert response.status_code == 404, (method, path)
        assert response.mimetype == "application/problem+json"
    assert client.get(url, headers=headers).get_json() == widget  # untouched

    make = Factory(served.app)
    both = make.user(tenant=tenant_of(served, BERLIN), role=Role.ANALYST)
    make.membership(both, tenant_of(served, PACIFIC), Role.ANALYST)
    in_berlin = make.bearer(both, tenant_of(served, BERLIN))
    in_pacific = make.bearer(both, tenant_of(served, PACIFIC))
    mine = create(client, in_berlin, kind="funnel", title="Berlin funnel")
    assert client.get(URL, headers=in_pacific).get_json()["data"] == []
    assert client.get(f"{URL}{mine['id']}/", headers=in_pacific).status_code == 404
    assert client.get(f"{URL}{mine['id']}/", headers=in_berlin).status_code == 200


def test_widgets_need_a_user_with_marts_read(served):
    client = served.app.test_client()
    key = client.get(URL, headers=key_headers(served, BERLIN))
    assert key.status_code == 403 and key.mimetype == "application/problem+json"
    viewer = user_headers(served, BERLIN, Role.VIEWER)  # personal: viewers may save their own
    assert (
        client.post(URL, json={"kind": "sales", "title": "Mine"}, headers=viewer).status_code == 201
    )
    make = Factory(served.app)
    outsider = {**make.bearer(make.user()), "X-Tenant-ID": str(served.tenant_ids[BERLIN])}
    assert client.get(URL, headers=outsider).status_code == 403
    assert client.get(URL).status_code == 401


def test_a_user_has_a_bounded_number_of_widgets(alice, monkeypatch):
    client, headers = alice
    monkeypatch.setattr(widgets, "MAX_WIDGETS", 2)
    create(client, headers, kind="sales")
    create(client, headers, kind="funnel")
    response = client.post(URL, json={"kind": "overview", "title": "One more"}, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "widgets"
