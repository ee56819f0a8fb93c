"""Stock bulk update: conflict modes, per-product atomicity, per-item results, tenant isolation."""

from __future__ import annotations

import pytest

from warehouse.controldb.models import Role
from warehouse.lake import read_table

URL = "/api/v1/stock/bulk_update/"


@pytest.fixture
def shop(make):
    tenant = make.tenant("stocky")
    return tenant, make.key_headers(tenant, "read", "write")


def put(client, headers, mode, changes, **extra_headers):
    return client.put(
        URL, json={"mode": mode, "changes": changes}, headers={**headers, **extra_headers}
    )


def levels(client, headers, *product_ids):
    query = "&".join(f"product_id={p}" for p in product_ids)
    response = client.get(f"/api/v1/stock/levels/?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {
        (r["product_id"], r["variant_id"]): (r["quantity"], r["version"])
        for r in response.json["data"]
    }


def stock_events(app, tenant):
    table = read_table(app.config["SHOPLAKE"].lake_root, "stock_events", tenant.id)
    rows = table.to_pylist() if table.num_rows else []
    return sorted(rows, key=lambda r: (r["product_id"], r["variant_id"] or "", r["occurred_at"]))


def change(product_id, variant_id=None, reason="adjustment", **values):
    body = {"product_id": product_id, "reason": reason, **values}
    if variant_id is not None:
        body["variant_id"] = variant_id
    return body


def test_merge_adds_deltas_and_lands_delta_events(app, client, shop):
    tenant, headers = shop
    first = put(
        client,
        headers,
        "merge",
        [change("p1", delta=10, reason="restock"), change("p1", "v1", delta=3)],
    )
    assert first.status_code == 200, first.get_json()
    second = put(client, headers, "merge", [change("p1", delta=-4, reason="sale")])
    assert second.status_code == 200
    assert second.json["results"] == [
        {
            "product_id": "p1",
            "status": "applied",
            "levels": [{**second.json["results"][0]["levels"][0], "quantity": 6, "version": 2}],
            "errors": [],
        }
    ]
    assert levels(client, headers, "p1") == {("p1", None): (6, 2), ("p1", "v1"): (3, 1)}
    landed = [
        (e["variant_id"], e["kind"], e["quantity"], e["reason"]) for e in stock_events(app, tenant)
    ]
    assert landed == [
        (None, "delta", 10, "restock"),
        (None, "delta", -4, "sale"),
        ("v1", "delta", 3, "adjustment"),
    ]


def test_last_write_wins_sets_levels_and_lands_set_events(app, client, shop):
    tenant, headers = shop
    assert put(client, headers, "last_write_wins", [change("p1", quantity=7)]).status_code == 200
    # expected_version is only checked in reject mode; here it is ignored.
    response = put(
        client, headers, "last_write_wins", [change("p1", quantity=2, expected_version=9)]
    )
    assert response.json["results"][0]["levels"][0]["quantity"] == 2
    assert levels(client, headers, "p1") == {("p1", None): (2, 2)}
    assert [(e["kind"], e["quantity"]) for e in stock_events(app, tenant)] == [
        ("set", 7),
        ("set", 2),
    ]


def test_reject_mode_refuses_a_stale_version_and_changes_nothing(app, client, shop):
    tenant, headers = shop
    created = put(client, headers, "reject", [change("p1", quantity=5, expected_version=0)])
    assert created.status_code == 200
    stale = put(client, headers, "reject", [change("p1", quantity=9, expected_version=0)])
    assert stale.status_code == 409
    assert stale.mimetype == "application/problem+json"
    assert stale.json["errors"] == [
        {
            "field": "changes.0.expected_version",
            "reason": "expected version 0, current version is 1",
        }
    ]
    assert stale.json["results"][0]["status"] == "refused"
    assert stale.json["results"][0]["levels"][0] | {"updated_at": None} == {
        "product_id": "p1", "variant_id": None, "quantity": 5, "version": 1, "updated_at": None,
    }  # fmt: skip
    assert levels(client, headers, "p1") == {("p1", None): (5, 1)}
    assert len(stock_events(app, tenant)) == 1


def test_changes_to_one_sku_in_one_request_apply_in_order(client, shop):
    _tenant, headers = shop
    chain = [
        change("p1", quantity=1, expected_version=0),
        change("p1", quantity=4, expected_version=1),
    ]
    response = put(client, headers, "reject", chain)
    assert response.status_code == 200, response.get_json()
    assert levels(client, headers, "p1") == {("p1", None): (4, 2)}


def test_each_product_is_atomic_and_independent(app, client, shop):
    tenant, headers = shop
    put(client, headers, "merge", [change("a", "v1", delta=5), change("a", "v2", delta=1)])
    response = put(
        client,
        headers,
        "merge",
        [
            change("a", "v1", delta=-1, reason="sale"),  # would apply alone ...
            change("b", delta=3, reason="restock"),
            change("a", "v2", delta=-2, reason="sale"),  # ... but this one goes below zero
        ],
    )
    assert response.status_code == 207
    by_product = {r["product_id"]: r for r in response.json["results"]}
    assert by_product["b"]["status"] == "applied"
    assert by_product["a"]["status"] == "refused"
    assert by_product["a"]["errors"] == [
        {
            "field": "changes.2.delta",
            "reason": "would take stock from 1 to -1; levels cannot go below zero",
        }
    ]
    assert {(lv["variant_id"], lv["quantity"]) for lv in by_product["a"]["levels"]} == {
        ("v1", 5),
        ("v2", 1),
    }
    assert levels(client, headers, "a", "b") == {
        ("a", "v1"): (5, 1), ("a", "v2"): (1, 1), ("b", None): (3, 1),
    }  # fmt: skip
    assert len(stock_events(app, tenant)) == 3


def test_nothing_applied_without_a_conflict_is_422(client, shop):
    _tenant, headers = shop
    response = put(client, headers, "merge", [change("p1", delta=10**12), change("p1", delta=1)])
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"field": "changes.1.delta", "reason": "level would exceed 1000000000000"}
    ]
    assert levels(client, headers, "p1") == {}


@pytest.mark.parametrize(
    ("mode", "item", "fields"),
    [
        (
            "merge",
            change("p", quantity=1),
            ["changes.0.delta", "changes.0.quantity"],
        ),  # merge takes deltas
        (
            "last_write_wins",
            change("p", delta=1),
            ["changes.0.quantity", "changes.0.delta"],
        ),  # and sets take quantities
        (
            "reject",
            change("p", quantity=1),
            ["changes.0.expected_version"],
        ),  # reject needs a version
    ],
)
def test_changes_must_fit_the_mode(client, shop, mode, item, fields):
    _tenant, headers = shop
    response = put(client, headers, mode, [item])
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"mode": "merge", "changes": [change("p", delta=1, reason="stolen")]},
            "changes.0.reason",
        ),  # not a stock reason
        ({"mode": "overwrite", "changes": [change("p", quantity=1)]}, "mode"),  # unknown mode
        (
            {"mode": "last_write_wins", "changes": [change("p", quantity=-1)]},
            "changes.0.quantity",
        ),  # negative level
        (
            {"mode": "merge", "changes": [change("p" * 129, delta=1)]},
            "changes.0.product_id",
        ),  # id too long
        ({"mode": "merge", "changes": []}, "changes"),  # empty batch
    ],
)
def test_invalid_bodies_are_refused_with_the_field(client, shop, body, field):
    _tenant, headers = shop
    response = client.put(URL, json=body, headers=headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json["errors"]]


def test_too_many_changes_are_refused(app, client, shop):
    _tenant, headers = shop
    limit = app.config["SHOPLAKE"].stock_bulk_max_changes
    response = put(client, headers, "merge", [change(f"p{i}", delta=1) for i in range(limit + 1)])
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "changes", "reason": f"at most {limit} changes"}]


def test_levels_of_other_tenants_are_invisible_and_separate(make, client, shop):
    _tenant, headers = shop
    other = make.tenant("rival")
    other_headers = make.key_headers(other, "read", "write")
    put(client, headers, "last_write_wins", [change("shared", quantity=8)])
    assert levels(client, other_headers, "shared") == {}
    # The rival's stale version check runs against its own, never-set level.
    response = put(
        client, other_headers, "reject", [change("shared", quantity=1, expected_version=1)]
    )
    assert response.status_code == 409
    assert levels(client, headers, "shared") == {("shared", None): (8, 1)}


def test_writes_need_data_write_and_reads_need_data_read(make, client, shop):
    tenant, _headers = shop
    read_only = make.key_headers(tenant, "read")
    assert put(client, read_only, "merge", [change("p", delta=1)]).status_code == 403
    viewer = make.user(tenant=tenant, role=Role.VIEWER)
    viewer_headers = make.bearer(viewer, tenant)
    assert (
        client.get("/api/v1/stock/levels/?product_id=p", headers=viewer_headers).status_code == 403
    )
    assert put(client, {}, "merge", [change("p", delta=1)]).status_code == 401
    assert levels(client, read_only, "p") == {}


def test_levels_need_a_product_id(client, shop):
    _tenant, headers = shop
    response = client.get("/api/v1/stock/levels/", headers=headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "product_id"
