"""Request and response models of the order analytics endpoints (amounts in minor units)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from serving.api import Out, Query
from serving.pagination import Page
from serving.schemas.orders import OrderStatus


class OrderAnalyticsQuery(Query):
    start_date: date | None = Field(
        None, description="First tenant-local day (YYYY-MM-DD); default: 29 days before end_date."
    )
    end_date: date | None = Field(
        None, description="Last tenant-local day, inclusive; default: today in the tenant's zone."
    )


class OrderAnalytics(Out):
    build_id: str = Field(description="The published snapshot the figures come from.")
    data_through: datetime | None = Field(
        description="Raw data landed up to this instant is included (the snapshot's watermark)."
    )
    start_date: date
    end_date: date
    timezone: str = Field(description="The tenant's IANA zone the days are in.")
    currency: str
    orders_by_status: dict[str, int] = Field(
        description="Every order placed in the range, by its current status (any currency)."
    )
    order_count: int = Field(
        description="Counted orders (paid, fulfilled, refunded, partially refunded; tenant "
        "currency) placed in the range. The sums below cover these orders."
    )
    units: int
    new_customer_count: int = Field(description="Customers whose first counted order is here.")
    guest_order_count: int
    gross_minor: int = Field(description="Sum of quantity x unit price.")
    discounts_minor: int = Field(description="Line plus order discounts.")
    tax_minor: int
    shipping_minor: int
    total_minor: int = Field(description="gross - discounts + tax + shipping.")
    refund_count: int = Field(description="Succeeded refunds made in the range (by refund day).")
    refunds_minor: int
    net_revenue_minor: int = Field(description="total - refunds.")
    average_order_value_minor: int | None = Field(
        description="total / order_count, rounded half away from zero; null without orders."
    )


class RecentOrdersQuery(Page):
    status: list[OrderStatus] | None = Field(None, description="Any of these (repeatable).")


class PendingOrdersQuery(Page):
    pass


class HighValueOrdersQuery(Page):
    min_total_minor: int | None = Field(
        None, ge=0, description="Orders at or above this total; default: the tenant's "
        "high_value_order_minor setting.",
    )  # fmt: skip
    status: list[OrderStatus] | None = Field(None, description="Any of these (repeatable).")
