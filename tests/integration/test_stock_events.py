"""Stock events land once per applied change, and retries after a crash neither lose nor repeat."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from tests.integration.test_stock_bulk_update import URL, change, levels, put, stock_events
from warehouse.controldb import transaction
from warehouse.controldb.models import InventoryChange
from warehouse.inventory import events


@pytest.fixture
def shop(make):
    tenant = make.tenant("eventful")
    return tenant, make.key_headers(tenant, "read", "write")


@pytest.fixture
def crash_before_landing(monkeypatch):
    """Make the next landing fail, as a process killed right after its commits would."""
    real = events.land
    calls = {"n": 0}

    def land(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed between commit and landing")
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "land", land)
    return calls


def pending(app, tenant):
    with transaction(app.extensions["shoplake.sessions"]) as session:
        query = select(InventoryChange).where(
            InventoryChange.tenant_id == tenant.id, InventoryChange.landed_at.is_(None)
        )
        return list(session.scalars(query))


def test_event_ids_are_stable_and_times_increase_per_sku(app, client, shop):
    tenant, headers = shop
    for _ in range(3):
        put(client, headers, "merge", [change("p1", delta=1), change("p1", delta=1)])
    landed = [e for e in stock_events(app, tenant)]
    assert [e["id"] for e in landed] == [
        events.event_id(tenant.id, "p1", "", v) for v in range(1, 7)
    ]
    times = [e["occurred_at"] for e in landed]
    assert times == sorted(times) and len(set(times)) == 6
    assert pending(app, tenant) == []


def test_a_retry_with_the_same_key_replays_and_applies_nothing_twice(app, client, shop):
    tenant, headers = shop
    key = {"Idempotency-Key": "restock-42"}
    first = put(client, headers, "merge", [change("p1", delta=5)], **key)
    again = put(client, headers, "merge", [change("p1", delta=5)], **key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert levels(client, headers, "p1") == {("p1", None): (5, 1)}
    other = put(client, headers, "merge", [change("p1", delta=6)], **key)
    assert other.status_code == 422
    assert other.json["errors"] == [{"field": "Idempotency-Key", "reason": "body differs"}]
    assert len(stock_events(app, tenant)) == 1


def test_refused_answers_are_replayed_as_problems(client, shop):
    _tenant, headers = shop
    key = {"Idempotency-Key": "stale-1"}
    body = [change("p1", quantity=1, expected_version=3)]
    assert put(client, headers, "reject", body, **key).status_code == 409
    replay = put(client, headers, "reject", body, **key)
    assert replay.status_code == 409 and replay.mimetype == "application/problem+json"


def test_a_crash_after_commit_is_recovered_by_the_retry(app, client, shop, crash_before_landing):
    tenant, headers = shop
    key = {"Idempotency-Key": "crashy-1"}
    body = [change("p1", delta=5), change("p2", "v", delta=2)]
    assert put(client, headers, "merge", body, **key).status_code == 500
    # The commit stands; its events wait in the control DB.
    assert levels(client, headers, "p1", "p2") == {("p1", None): (5, 1), ("p2", "v"): (2, 1)}
    assert stock_events(app, tenant) == [] and len(pending(app, tenant)) == 2
    retry = put(client, headers, "merge", body, **key)
    assert retry.status_code == 200
    assert [r["status"] for r in retry.json["results"]] == ["replayed", "replayed"]
    assert [lv["quantity"] for r in retry.json["results"] for lv in r["levels"]] == [5, 2]
    assert levels(client, headers, "p1", "p2") == {("p1", None): (5, 1), ("p2", "v"): (2, 1)}
    assert [(e["product_id"], e["quantity"]) for e in stock_events(app, tenant)] == [
        ("p1", 5),
        ("p2", 2),
    ]
    assert pending(app, tenant) == []


def test_events_a_crash_left_behind_land_with_the_next_update(
    app, client, shop, crash_before_landing
):
    tenant, headers = shop
    settings = app.config["SHOPLAKE"]
    app.config["SHOPLAKE"] = settings.replace(stock_event_redeliver_seconds=0)
    assert put(client, headers, "last_write_wins", [change("p1", quantity=3)]).status_code == 500
    assert put(client, headers, "last_write_wins", [change("p2", quantity=4)]).status_code == 200
    assert [(e["product_id"], e["quantity"]) for e in stock_events(app, tenant)] == [
        ("p1", 3),
        ("p2", 4),
    ]
    assert pending(app, tenant) == []


def test_landing_the_same_changes_again_lands_nothing_new(app, shop):
    tenant, _headers = shop
    client = app.test_client()
    put(client, shop[1], "merge", [change("p1", delta=1), change("p2", delta=1)])
    with transaction(app.extensions["shoplake.sessions"]) as session:
        changes = list(session.scalars(select(InventoryChange)))
    again = events.land(app.config["SHOPLAKE"].lake_root, tenant.id, changes)
    assert again.already_landed
    assert len(stock_events(app, tenant)) == 2


def test_unknown_mode_values_never_reach_the_lake(app, client, shop):
    tenant, headers = shop
    response = client.put(
        URL, json={"mode": "merge", "changes": [change("p", delta="5")]}, headers=headers
    )
    assert response.status_code == 422  # strict JSON types: "5" is not an int
    assert stock_events(app, tenant) == []


def test_landed_changes_are_forgotten_after_a_week(app, client, shop):
    tenant, headers = shop
    put(client, headers, "merge", [change("p1", delta=1)])
    factory = app.extensions["shoplake.sessions"]
    with transaction(factory) as session:
        session.execute(update(InventoryChange).values(landed_at=datetime(2020, 1, 1, tzinfo=UTC)))
    put(client, headers, "merge", [change("p2", delta=1)])
    with transaction(factory) as session:
        left = [c.product_id for c in session.scalars(select(InventoryChange))]
    assert left == ["p2"]
    assert levels(client, headers, "p1") == {("p1", None): (1, 1)}  # the level itself stays
