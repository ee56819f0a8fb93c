"""Payment, refund and dispute states, and the one ordering rule every update obeys.

Stripe delivers events in no guaranteed order and retries them for days, so an update carries
the provider time of the state it describes (an event's ``created``, an object's ``created``,
or the moment we fetched it) and is applied only if it is not older than the state held:
:func:`supersedes`. Ties (Stripe times are whole seconds) go to the state further along; a
final state always beats a non-final one, whatever the clocks say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Our normalised payment states (the lake's `payments.status`) ranked by progress.
PAYMENT_RANK = {"pending": 0, "failed": 1, "succeeded": 2, "canceled": 2}
PAYMENT_FINAL = frozenset({"succeeded", "canceled"})

# Stripe refund statuses plus our own `reserved` (amount held while Stripe is asked).
# A succeeded refund may still fail later (e.g. a closed bank account), so it is not final.
REFUND_RANK = {
    "reserved": 0,
    "pending": 1,
    "requires_action": 1,
    "succeeded": 2,
    "failed": 3,
    "canceled": 3,
}
REFUND_FINAL = frozenset({"failed", "canceled"})
# Refunds that hold or have moved money: they count against what may still be refunded.
REFUND_HOLDING = frozenset({"reserved", "pending", "requires_action", "succeeded"})
# The lake's refund contract knows pending|succeeded|failed.
REFUND_LAKE_STATUS = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}

DISPUTE_FINAL = frozenset({"won", "lost", "warning_closed", "prevented"})


@dataclass(frozen=True)
class Observed:
    """A state and the provider time it held at."""

    status: str
    at: datetime


def payment_status(
    provider_status: str, event_type: str | None = None, failed: bool = False
) -> str:
    """Normalise a PaymentIntent status (and the event that reported it) to our four states."""
    if event_type == "payment_intent.payment_failed":
        return "failed"
    if provider_status in ("succeeded", "canceled"):
        return provider_status
    if provider_status == "requires_payment_method" and failed:
        return "failed"  # a declined attempt leaves the intent waiting for a new method
    return "pending"


def supersedes(current: Observed | None, incoming: Observed, rank: dict[str, int], final) -> bool:
    """Tell whether ``incoming`` may replace ``current`` (None: nothing held yet)."""
    if current is None:
        return True
    if (current.status in final) != (incoming.status in final):
        # A final state is reached after every non-final one, so it wins either way round,
        # even when clocks (ours for fetched states, Stripe's for events) disagree.
        return incoming.status in final
    incoming_rank, current_rank = rank.get(incoming.status, 0), rank.get(current.status, 0)
    return (incoming.at, incoming_rank) >= (current.at, current_rank)


def payment_supersedes(current: Observed | None, incoming: Observed) -> bool:
    """Apply :func:`supersedes` with the payment ranks."""
    return supersedes(current, incoming, PAYMENT_RANK, PAYMENT_FINAL)


def refund_supersedes(current: Observed | None, incoming: Observed) -> bool:
    """Apply :func:`supersedes` with the refund ranks."""
    return supersedes(current, incoming, REFUND_RANK, REFUND_FINAL)


def dispute_supersedes(current: Observed | None, incoming: Observed) -> bool:
    """Apply :func:`supersedes` with disputes: open states rank 0, closed ones 1 and final."""
    rank = {status: 1 for status in DISPUTE_FINAL}
    return supersedes(current, incoming, rank, DISPUTE_FINAL)


def refundable(captured_minor: int, refund_amounts: list[tuple[str, int]]) -> int:
    """Return what may still be refunded: captured minus refunds holding or moving money."""
    held = sum(amount for status, amount in refund_amounts if status in REFUND_HOLDING)
    return max(0, captured_minor - held)
