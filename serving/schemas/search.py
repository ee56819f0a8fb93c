"""Query and response models of GET /api/v1/orders/search/ (streamed; see the blueprint)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from serving.api import Out, Query
from serving.schemas.orders import ItemOut, OrderStatus, PaymentOut
from warehouse.search import DEFAULT_FIELDS, FIELDS, SORTS

MAX_LIMIT = 100_000
WHEN_HELP = "A date (a day in the tenant's time zone) or an RFC 3339 instant with offset."


def _date_or_instant(value: Any) -> Any:
    """Read ``YYYY-MM-DD`` as a date and anything longer as an instant that needs an offset."""
    if not isinstance(value, str):
        return value
    if len(value) == 10:
        return date.fromisoformat(value)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("an instant needs a UTC offset (or give a date)")
    return parsed


When = Annotated[date | datetime, BeforeValidator(_date_or_instant)]


class OrderSearchQuery(Query):
    start: When | None = Field(None, description=f"created_at from. {WHEN_HELP}")
    end: When | None = Field(
        None,
        description=f"created_at until: a date is inclusive, an instant exclusive. {WHEN_HELP}",
    )
    product_ids: list[str] | None = Field(
        None, description="Orders with a line of any of these products (repeat or comma-separate)."
    )
    min_total_minor: int | None = Field(None, description="total_minor >= this.")
    max_total_minor: int | None = Field(None, description="total_minor <= this.")
    status: list[OrderStatus] | None = Field(None, description="Any of these (repeatable).")
    q: str | None = Field(
        None,
        max_length=200,
        description="Case-insensitive substring of the customer's name or email.",
    )
    fields: list[str] | None = Field(
        None,
        description=f"Fields to return (comma-separated or repeated) out of {', '.join(FIELDS)}; "
        f"default {', '.join(DEFAULT_FIELDS)}.",
    )
    sort: Literal[SORTS] = Field(  # type: ignore[valid-type]
        "created_at", description="By (created_at, id); `-created_at` for newest first."
    )
    limit: int = Field(
        1000, ge=1, le=MAX_LIMIT, description=f"Orders in this page (1-{MAX_LIMIT})."
    )
    cursor: str | None = Field(
        None, description="The `next_cursor` of the previous page, with the same filters."
    )
    format: Literal["json", "ndjson"] | None = Field(
        None, description="`json` (default) or `ndjson`; else chosen by the Accept header."
    )

    def filters(self) -> dict[str, Any]:
        """Return the arguments of :func:`warehouse.search.make_search` (besides the zone)."""
        return {
            "start": self.start,
            "end": self.end,
            "product_ids": self.product_ids,
            "min_total_minor": self.min_total_minor,
            "max_total_minor": self.max_total_minor,
            "statuses": self.status,
            "q": self.q,
            "sort": self.sort,
            "fields": self.fields,
        }


class SearchRecord(Out):
    """One order with the fields asked for (only those are present)."""

    id: str | None = None
    order_number: str | None = None
    customer_id: str | None = None
    status: str | None = None
    currency: str | None = None
    subtotal_minor: int | None = None
    discount_minor: int | None = None
    tax_minor: int | None = None
    shipping_minor: int | None = None
    total_minor: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    payment: PaymentOut | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    items: list[ItemOut] | None = None


class SearchPage(Out):
    """The `json` form. NDJSON sends one record per line, then `{"_page": {...}}` last."""

    data: list[SearchRecord]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")
    count: int = Field(description="Records in `data`.")
