"""Conflict modes: what one stock change does to one level, decided without any I/O.

* ``last_write_wins``: ``quantity`` replaces the level, whatever its version.
* ``merge``: ``delta`` is added to the level; a result below zero is refused (stock cannot go
  negative), as is one above :data:`MAX_QUANTITY`.
* ``reject``: ``quantity`` replaces the level only when ``expected_version`` equals the level's
  version (0 for a SKU never set), so concurrent writers form a chain of versions.

Every accepted change raises the version by one. A SKU never set has quantity 0 and version 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    LAST_WRITE_WINS = "last_write_wins"
    MERGE = "merge"
    REJECT = "reject"


# Far above any real stock count, far below int64: sums of deltas cannot overflow a column.
MAX_QUANTITY = 10**12


@dataclass(frozen=True)
class Change:
    """One requested change; ``index`` is its position in the request (for error fields)."""

    index: int
    product_id: str
    variant_id: str  # '' for the product itself
    reason: str
    quantity: int | None = None
    delta: int | None = None
    expected_version: int | None = None

    def field(self, name: str) -> str:
        """Return the request path of one of this change's fields."""
        return f"changes.{self.index}.{name}"


@dataclass(frozen=True)
class Level:
    """A SKU's stock and version."""

    quantity: int = 0
    version: int = 0


@dataclass(frozen=True)
class Outcome:
    """The level after a change and the stock event recording it (kind ``set`` or ``delta``)."""

    level: Level
    kind: str
    quantity: int


class Refused(Exception):
    """A change the mode does not allow; ``conflict`` says whether the level's state caused it."""

    def __init__(self, field: str, reason: str, *, conflict: bool) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.conflict = field, reason, conflict


def shape_errors(mode: Mode, change: Change) -> list[tuple[str, str]]:
    """Return (field, reason) for each value the mode needs but lacks, or forbids but has."""
    errors = []
    wanted, unwanted = ("delta", "quantity") if mode is Mode.MERGE else ("quantity", "delta")
    if getattr(change, wanted) is None:
        errors.append((change.field(wanted), f"required in {mode.value} mode"))
    if getattr(change, unwanted) is not None:
        errors.append((change.field(unwanted), f"not allowed in {mode.value} mode; use {wanted}"))
    if mode is Mode.REJECT and change.expected_version is None:
        errors.append((change.field("expected_version"), "required in reject mode"))
    return errors


def apply(mode: Mode, level: Level, change: Change) -> Outcome:
    """Return what ``change`` makes of ``level`` under ``mode``, or raise :class:`Refused`."""
    if mode is Mode.MERGE:
        return _merge(level, change)
    if mode is Mode.REJECT and change.expected_version != level.version:
        raise Refused(
            change.field("expected_version"),
            f"expected version {change.expected_version}, current version is {level.version}",
            conflict=True,
        )
    assert change.quantity is not None
    return Outcome(Level(change.quantity, level.version + 1), "set", change.quantity)


def _merge(level: Level, change: Change) -> Outcome:
    assert change.delta is not None
    result = level.quantity + change.delta
    if result < 0:
        raise Refused(
            change.field("delta"),
            f"would take stock from {level.quantity} to {result}; levels cannot go below zero",
            conflict=True,
        )
    if result > MAX_QUANTITY:
        raise Refused(change.field("delta"), f"level would exceed {MAX_QUANTITY}", conflict=False)
    return Outcome(Level(result, level.version + 1), "delta", change.delta)
