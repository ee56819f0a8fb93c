"""Date ranges of the analytics answers: tenant-local days, defaults, limits, previous period.

A range is a pair of inclusive calendar days in the tenant's time zone (the marts' day buckets
use the same zone). Without dates it is the last :data:`DEFAULT_DAYS` days ending today; it may
span at most :data:`MAX_RANGE_DAYS` days. Period-over-period compares with the period of equal
length that ends the day before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from warehouse.errors import ServiceError

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 1096  # three years (with a leap day): every preset's history fits
EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)


class InvalidRange(ServiceError):
    """The requested dates do not make a usable range."""

    status = 422


@dataclass(frozen=True)
class Period:
    """Inclusive tenant-local days ``start`` .. ``end``."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """Return the period of equal length ending the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def as_dict(self) -> dict[str, object]:
        return {"start_date": self.start, "end_date": self.end, "days": self.days}


def local_now(timezone: str, now: datetime | None = None) -> datetime:
    """Return ``now`` (default: the current instant) in the tenant's time zone."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone))


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Return the UTC instants where a tenant-local day starts and the next one starts."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


def resolve_period(
    start: date | None, end: date | None, today: date, days: int | None = None
) -> Period:
    """Return the range a request names, filling defaults; raise InvalidRange naming the field."""
    if days is not None and start is not None:
        raise InvalidRange("days", "give either start_date or days, not both")
    last = end or today
    first = start or last - timedelta(days=(days or DEFAULT_DAYS) - 1)
    if first < EARLIEST:
        raise InvalidRange("days" if days else "start_date", f"the range starts before {EARLIEST}")
    if last < first:
        field = "end_date" if end is not None else "start_date"
        raise InvalidRange(field, f"end_date {last} is before start_date {first}")
    period = Period(first, last)
    if period.days > MAX_RANGE_DAYS:
        field = "end_date" if end is not None else "start_date"
        raise InvalidRange(field, f"the range spans {period.days} days; at most {MAX_RANGE_DAYS}")
    return period
