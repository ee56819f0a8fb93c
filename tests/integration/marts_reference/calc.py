"""Exact arithmetic and calendars for the reference: integers, Decimals and zone conversion."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


def quotient(numerator: int, denominator: int, scale: int = 0) -> int | None:
    """Return numerator * 10**scale / denominator rounded half away from zero (None if /0)."""
    if not denominator:
        return None
    scaled = abs(numerator) * 10**scale
    whole, rest = divmod(scaled, denominator)
    if 2 * rest >= denominator:
        whole += 1
    return whole if numerator >= 0 else -whole


def ratio(numerator: int, denominator: int, scale: int = 4) -> Decimal | None:
    """Return numerator / denominator as a Decimal with ``scale`` places (None if /0)."""
    value = quotient(numerator, denominator, scale)
    return None if value is None else Decimal(value).scaleb(-scale)


def local(moment: datetime, timezone: str) -> datetime:
    """Return a naive UTC timestamp as naive wall-clock time in ``timezone``."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def local_day(moment: datetime, timezone: str) -> date:
    """Return the calendar day of a naive UTC timestamp in ``timezone``."""
    return local(moment, timezone).date()


def days_between(earlier: date, later: date) -> int:
    """Return whole days from ``earlier`` to ``later``."""
    return (later - earlier).days
