"""Request and response models of the customer analytics and RFM segment endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from serving.api import Out, Query
from serving.pagination import Page, Paginated

RATIO = "4 decimals, rounded half away from zero; null when undefined."


class VipCustomersQuery(Page):
    min_lifetime_value_minor: int | None = Field(
        None, ge=0, description="Override the tenant's vip_lifetime_value_minor."
    )


class NewCustomersQuery(Page):
    days: int | None = Field(
        None, ge=1, le=3650, description="First order fewer than this many days before the "
        "as-of day; default: the tenant's new_customer_days.",
    )  # fmt: skip


class InactiveCustomersQuery(Page):
    days: int | None = Field(
        None, ge=1, le=3650, description="Last order at least this many days before the as-of "
        "day; default: the tenant's inactive_customer_days.",
    )  # fmt: skip


class TopCustomersQuery(Query):
    by: Literal["lifetime_value", "orders", "average_order_value"] = "lifetime_value"
    limit: int = Field(10, ge=1, le=100, description="How many customers (1-100).")


class CustomerFigures(Out):
    customer_id: str
    email: str
    first_name: str | None
    last_name: str | None
    currency: str
    order_count: int = Field(description="Counted orders (paid, fulfilled, refunded), ever.")
    gross_spend_minor: int
    refunded_minor: int
    lifetime_value_minor: int = Field(description="Order totals - succeeded refunds.")
    average_order_value_minor: int | None
    cohort_month: date | None = Field(description="Month of the first order (first day).")
    first_order_date: date | None = Field(description="Tenant-local day.")
    last_order_date: date | None
    days_since_last_order: int | None = Field(description="Days before the as-of day.")
    as_of_date: date = Field(description="The day the marts were built for (tenant-local).")
    first_order_at: datetime | None
    last_order_at: datetime | None
    is_vip: bool = Field(description="Lifetime value at or above the VIP threshold.")
    is_new: bool = Field(description="First order fewer than new-customer days ago.")
    is_inactive: bool = Field(description="Last order at least inactive-customer days ago.")
    segment: str | None = Field(description="RFM segment; null without orders in the window.")
    rfm_cell: str | None = Field(description="R, F and M scores as digits ('545').")
    r_score: int | None
    f_score: int | None
    m_score: int | None
    recency_days: int | None
    frequency: int | None = Field(description="Orders in the RFM window.")
    monetary_minor: int | None = Field(description="Net spend in the RFM window.")


class CustomerAnalyticsOut(CustomerFigures):
    build_id: str


class CustomerFiguresPage(Paginated[CustomerFigures]):
    build_id: str
    threshold: int = Field(description="Applied threshold: minor units (VIP) or days.")


class TopCustomers(Out):
    build_id: str
    by: str
    data: list[CustomerFigures]


class CustomerSummary(Out):
    build_id: str
    currency: str
    as_of_date: date | None = Field(description="The day the flags are computed for.")
    vip_lifetime_value_minor: int = Field(description="The VIP threshold applied.")
    new_customer_days: int
    inactive_customer_days: int
    customer_count: int
    customers_with_orders: int
    repeat_customer_count: int = Field(description="Customers with two or more orders.")
    repeat_rate: float | None = Field(description="Repeat / with orders. " + RATIO)
    vip_customer_count: int
    new_customer_count: int
    inactive_customer_count: int
    order_count: int
    lifetime_value_minor: int
    average_lifetime_value_minor: int | None = Field(description="Over customers with orders.")
    average_orders_per_customer: float | None = Field(description="2 decimals; with orders.")


class CohortOut(Out):
    cohort_month: date = Field(description="Month of the customers' first order (first day).")
    customer_count: int
    repeat_customer_count: int
    order_count: int
    lifetime_value_minor: int
    average_lifetime_value_minor: int | None


class FrequencyOut(Out):
    orders: int = Field(description="Orders per customer; the last bucket (5) means 5 or more.")
    customer_count: int
    lifetime_value_minor: int
    average_lifetime_value_minor: int | None


class CustomerAnalytics(Out):
    build_id: str
    currency: str
    cohorts: list[CohortOut] = Field(description="Customers by month of their first order.")
    order_count_distribution: list[FrequencyOut]


class SegmentOut(Out):
    segment: str
    slug: str = Field(description="Its path form for segments/<segment>/.")
    customer_count: int
    share: float | None = Field(description="Of customers scored. " + RATIO)
    monetary_minor: int = Field(description="Net spend in the window, summed.")
    average_monetary_minor: int | None
    average_frequency: float | None = Field(description="Orders in the window, 2 decimals.")
    average_recency_days: float | None = Field(description="1 decimal.")


class Segments(Out):
    build_id: str
    as_of_date: date | None
    window_days: int | None = Field(description="The RFM window (tenant setting at build).")
    customer_count: int = Field(description="Customers with an order in the window.")
    data: list[SegmentOut] = Field(description="All eleven segments, best first.")


class SegmentCustomersPage(Paginated[CustomerFigures]):
    build_id: str
    segment: str
    slug: str
