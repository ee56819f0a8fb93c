"""Unique-value claims and record locks in the control DB."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from warehouse.controldb import make_engine, make_session_factory, transaction
from warehouse.controldb.models import Tenant, UniqueValue
from warehouse.entities.claims import Claims


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        session.add_all([Tenant(slug="a", name="A"), Tenant(slug="b", name="B")])
    yield factory
    engine.dispose()


def rows(sessions) -> set[tuple[int, str, str, str]]:
    with transaction(sessions) as session:
        found = session.scalars(select(UniqueValue))
        return {(r.tenant_id, r.kind, r.value, r.entity_id) for r in found}


def test_claims_settle_and_release(sessions):
    with transaction(sessions, write=True) as session:
        claims = Claims(session, 1)
        claims.lock("products", ["p1"])
        claims.acquire([("sku", "A", "p1"), ("sku", "B", "p1")])
        claims.settle("sku", {"p1": {"A", "B"}})
    with transaction(sessions, write=True) as session:
        claims = Claims(session, 1)
        claims.acquire([("sku", "B", "p2")])
        assert claims.holders[("sku", "B")] == "p1"  # held by another record: the lake decides
        claims.settle("sku", {"p2": {"B"}, "p1": {"A"}})
    assert rows(sessions) == {
        (1, "id:products", "p1", "p1"),
        (1, "sku", "A", "p1"),
        (1, "sku", "B", "p2"),
    }


def test_failed_writes_leave_no_claim_and_tenants_do_not_share_values(sessions):
    with transaction(sessions, write=True) as session:
        claims = Claims(session, 1)
        claims.acquire([("email", "x@y.z", "c1"), ("email", "w@y.z", "c2")])
        claims.forget("email", ["c2"])
    with transaction(sessions, write=True) as session:
        Claims(session, 2).acquire([("email", "x@y.z", "c9")])
    assert rows(sessions) == {(1, "email", "x@y.z", "c1"), (2, "email", "x@y.z", "c9")}


def test_a_second_writer_of_a_value_waits_for_the_first(sessions):
    acquired, order = threading.Event(), []

    def first() -> None:
        with transaction(sessions, write=True) as session:
            Claims(session, 1).acquire([("sku", "S", "p1")])
            acquired.set()
            time.sleep(0.3)
            order.append("first commits")

    thread = threading.Thread(target=first)
    thread.start()
    acquired.wait(5)
    with transaction(sessions, write=True) as session:
        claims = Claims(session, 1)
        claims.acquire([("sku", "S", "p2")])
        order.append("second acquired")
        assert claims.holders[("sku", "S")] == "p1"
    thread.join()
    assert order == ["first commits", "second acquired"]
