"""What an order search asks for: filters, sort, projection, and the fingerprint cursors bind to.

A date given for ``start``/``end`` is a day in the tenant's time zone: ``start`` is that day's
first instant, ``end`` the first instant of the day after (so ``end`` is inclusive as a date).
An instant is taken as given, ``start`` inclusive and ``end`` exclusive.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from warehouse.errors import ServiceError

# Projectable fields: name -> SQL over the page's orders `o`, their customers `c` and their
# lines `i` (see query.CUSTOMERS_JOIN and query.ITEMS_JOIN).
ORDER_FIELDS = {
    name: f'o."{name}"'
    for name in (
        "id", "order_number", "customer_id", "status", "currency", "subtotal_minor",
        "discount_minor", "tax_minor", "shipping_minor", "total_minor", "created_at",
        "updated_at",
    )
}  # fmt: skip
PAYMENT = (
    "case when o.payment_provider is null and o.payment_status is null "
    "and o.payment_reference is null then null else struct_pack(provider := o.payment_provider, "
    "status := o.payment_status, reference := o.payment_reference) end"
)
CUSTOMER_FIELDS = {
    "customer_email": "c.email",
    "customer_name": "nullif(trim(concat_ws(' ', c.first_name, c.last_name)), '')",
}
FIELDS = {**ORDER_FIELDS, "payment": PAYMENT, **CUSTOMER_FIELDS, "items": "i.items"}
DEFAULT_FIELDS = (*ORDER_FIELDS, "payment")
SORTS = ("created_at", "-created_at")
MAX_PRODUCT_IDS = 1000


class SearchInputError(ServiceError):
    """A search parameter that cannot be used as given (422 naming it)."""

    status = 422


@dataclass(frozen=True)
class OrderSearch:
    """One search: every filter normalised (None = not given), the sort and the projection."""

    start: datetime | None = None
    end: datetime | None = None
    product_ids: tuple[str, ...] | None = None
    min_total_minor: int | None = None
    max_total_minor: int | None = None
    statuses: tuple[str, ...] | None = None
    q: str | None = None
    sort: str = "created_at"
    fields: tuple[str, ...] = field(default=DEFAULT_FIELDS)

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def projects_customers(self) -> bool:
        """Tell whether a customer field is asked for (joined for the page's orders)."""
        return any(f in CUSTOMER_FIELDS for f in self.fields)

    @property
    def needs_customers(self) -> bool:
        """Tell whether the query reads customers: for ``q`` or a customer field."""
        return self.q is not None or self.projects_customers

    def fingerprint(self) -> str:
        """Return a digest of what selects and orders rows (not limit or fields)."""
        filters = {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "product_ids": self.product_ids,
            "min_total_minor": self.min_total_minor,
            "max_total_minor": self.max_total_minor,
            "statuses": self.statuses,
            "q": self.q,
            "sort": self.sort,
        }
        canonical = json.dumps(filters, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def cursor_scope(tenant_id: int, search: OrderSearch) -> str:
    """Return the name cursors of this tenant's search are signed for (tenant + filter set)."""
    return f"orders.search.{tenant_id}.{search.fingerprint()}"


def make_search(
    timezone: str,
    *,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
    product_ids: Sequence[str] | None = None,
    min_total_minor: int | None = None,
    max_total_minor: int | None = None,
    statuses: Sequence[str] | None = None,
    q: str | None = None,
    sort: str = "created_at",
    fields: Sequence[str] | None = None,
) -> OrderSearch:
    """Validate and normalise raw search parameters (raise SearchInputError naming a field)."""
    zone = ZoneInfo(timezone)
    begin, until = _instant(start, zone, "start"), _instant(end, zone, "end", next_day=True)
    if begin and until and until <= begin:
        raise SearchInputError("end", "must be after start")
    low, high = min_total_minor, max_total_minor
    if low is not None and high is not None and high < low:
        raise SearchInputError("max_total_minor", "must be at least min_total_minor")
    if sort not in SORTS:
        raise SearchInputError("sort", f"one of {', '.join(SORTS)}")
    return OrderSearch(
        start=begin,
        end=until,
        product_ids=_product_ids(product_ids),
        min_total_minor=min_total_minor,
        max_total_minor=max_total_minor,
        statuses=tuple(sorted(set(statuses))) if statuses else None,
        q=q.strip().lower() or None if q is not None else None,
        sort=sort,
        fields=parse_fields(fields),
    )


def parse_fields(values: Sequence[str] | None) -> tuple[str, ...]:
    """Return the projected fields in the order asked (comma lists allowed), each allowed."""
    if not values:
        return DEFAULT_FIELDS
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise SearchInputError("fields", f"unknown field(s) {', '.join(unknown)}; allowed: "
                               f"{', '.join(FIELDS)}")  # fmt: skip
    if not names:
        raise SearchInputError("fields", "name at least one field")
    return tuple(dict.fromkeys(names))


def _product_ids(values: Sequence[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    ids = sorted({v.strip() for value in values for v in value.split(",") if v.strip()})
    if not ids:
        raise SearchInputError("product_ids", "name at least one product id")
    if len(ids) > MAX_PRODUCT_IDS:
        raise SearchInputError("product_ids", f"at most {MAX_PRODUCT_IDS} ids")
    return tuple(ids)


def _instant(
    value: datetime | date | None, zone: ZoneInfo, name: str, next_day: bool = False
) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise SearchInputError(name, "an instant needs a UTC offset (or give a date)")
        return value.astimezone(UTC)
    day = value + timedelta(days=1) if next_day else value
    return datetime.combine(day, time(), zone).astimezone(UTC)
