"""Order status: the state machine, and the history read back from the order's versions.

::

    pending ──> paid ──> fulfilled
       │          │
       └──────────┴──> cancelled
    paid | fulfilled | partially_refunded ──(create_refund)──> partially_refunded | refunded
    partially_refunded ──> fulfilled

``refunded`` and ``partially_refunded`` are reached only through a refund (which records the
money), ``cancelled`` and ``refunded`` are final. Every change lands as a new version of the
order, so the raw zone is the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warehouse.entities import reader
from warehouse.entities.changes import STATUS, Change
from warehouse.entities.errors import EntityNotFound
from warehouse.entities.records import utc
from warehouse.entities.sources import Store

TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled", "cancelled"}),
    "fulfilled": frozenset(),
    "partially_refunded": frozenset({"fulfilled"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
REFUND_STATUSES = frozenset({"partially_refunded", "refunded"})
REFUNDABLE = frozenset({"paid", "fulfilled", "partially_refunded"})


def transition_error(current: str, target: str) -> str | None:
    """Return why ``current`` cannot become ``target`` through a status change, or None."""
    if target in REFUND_STATUSES and current != target:
        return f"{target} is set by creating a refund (create_refund/), not directly"
    allowed = TRANSITIONS.get(current, frozenset())
    if target == current or target in allowed:
        return None
    options = ", ".join(sorted(allowed)) or "none (final status)"
    return f"cannot change from {current} to {target}; allowed: {options}"


def check_update(change: Change, before: Mapping[str, Any] | None, record: Mapping) -> None:
    """Fail (409) an update whose status change the state machine does not allow."""
    if before is None or not change.pending:
        return
    current, target = before["status"], record.get("status")
    if not isinstance(target, str):
        return  # the contract reports a missing or malformed status
    if change.op == STATUS and target == current:
        change.fail(409, "status", f"the order is already {current}")
        return
    reason = transition_error(current, target)
    if reason is not None:
        change.fail(409, "status", reason)


def status_after_refund(total_minor: int, refunded_minor: int) -> str:
    """Return the status of an order once ``refunded_minor`` of it succeeded in refunds."""
    return "refunded" if refunded_minor >= total_minor else "partially_refunded"


def status_history(store: Store, order_id: str) -> list[dict[str, Any]]:
    """Return the order's status changes, oldest first, from its landed versions."""
    versions = reader.versions(store, "orders", order_id, ["status", "updated_at"])
    if not versions or versions[-1]["_op"] == "delete":
        raise EntityNotFound([("id", "no such record")])
    history: list[dict[str, Any]] = []
    for version in versions:
        if version["_op"] == "delete":
            history.clear()  # a re-created order starts a new history
            continue
        if history and history[-1]["status"] == version["status"]:
            continue
        history.append(
            {
                "status": version["status"],
                "changed_at": utc(version["updated_at"]),
                "recorded_at": utc(version["_ingested_at"]),
                "source": version["_source"],
            }
        )
    return history
