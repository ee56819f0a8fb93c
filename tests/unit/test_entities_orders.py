"""The order status state machine and the status reached by refunds."""

from __future__ import annotations

import pytest

from warehouse.contracts.entities import ORDER_STATUSES
from warehouse.entities.changes import STATUS, UPDATE, Change
from warehouse.entities.orders import (
    TRANSITIONS,
    check_update,
    status_after_refund,
    transition_error,
)

ALLOWED = {
    ("pending", "paid"),
    ("pending", "cancelled"),
    ("paid", "fulfilled"),
    ("paid", "cancelled"),
    ("partially_refunded", "fulfilled"),
}


def test_the_machine_covers_every_contract_status():
    assert set(TRANSITIONS) == set(ORDER_STATUSES)


@pytest.mark.parametrize("current", ORDER_STATUSES)
@pytest.mark.parametrize("target", ORDER_STATUSES)
def test_transitions(current, target):
    error = transition_error(current, target)
    if current == target or (current, target) in ALLOWED:
        assert error is None
    else:
        assert error  # every other move is refused with a reason


def test_refund_statuses_are_only_reached_through_refunds():
    assert "create_refund" in transition_error("paid", "refunded")
    assert "create_refund" in transition_error("fulfilled", "partially_refunded")


@pytest.mark.parametrize(
    ("total", "refunded", "status"),
    [(1000, 1, "partially_refunded"), (1000, 999, "partially_refunded"), (1000, 1000, "refunded")],
)
def test_status_after_refund(total, refunded, status):
    assert status_after_refund(total, refunded) == status


def test_status_change_to_the_same_status_is_a_conflict_but_an_edit_is_not():
    before = {"status": "paid"}
    same = Change(STATUS, 0, "o1", {"status": "paid"})
    check_update(same, before, {"status": "paid"})
    assert same.status == 409
    edit = Change(UPDATE, 0, "o1", {"status": "paid", "order_number": "N-2"})
    check_update(edit, before, {"status": "paid"})
    assert edit.pending
    back = Change(UPDATE, 0, "o1", {"status": "pending"})
    check_update(back, before, {"status": "pending"})
    assert back.status == 409 and back.errors[0][0] == "status"
