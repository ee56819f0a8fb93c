"""Request and response models for /api/v1/analytics/.

Dates are tenant-local calendar days (YYYY-MM-DD), both ends inclusive. Money is in integer
minor units of the tenant's currency; rates and percentages are exact decimals rounded half
away from zero (4 and 2 places), sent as JSON numbers.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from serving.api import Out, Query
from warehouse.analytics.periods import DEFAULT_DAYS, EARLIEST, LATEST, MAX_RANGE_DAYS

Rate = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
Interval = Literal["day", "week", "month"]


class RangeQuery(Query):
    start_date: Day | None = Field(
        None, description=f"First day; default: {DEFAULT_DAYS} days (or `days`) before end_date."
    )
    end_date: Day | None = Field(
        None, description="Last day, inclusive; default: today in the tenant's time zone."
    )
    days: int | None = Field(
        None, ge=1, le=MAX_RANGE_DAYS, description="Range length ending on end_date, instead of"
        " start_date (relative ranges keep a saved widget current)."
    )  # fmt: skip


class OverviewQuery(RangeQuery):
    limit: int = Field(5, ge=1, le=50, description="Top products and low-stock SKUs listed.")


class SalesQuery(RangeQuery):
    interval: Interval = Field("day", description="Bucket size; weeks start on Monday.")


class ProductsQuery(Query):
    limit: int = Field(10, ge=1, le=100, description="Top products listed.")


class CustomersQuery(RangeQuery):
    pass


class FunnelQuery(RangeQuery):
    pass


class RealtimeQuery(Query):
    pass


class SnapshotOut(Out):
    build_id: str
    watermark: datetime | None = Field(description="Newest raw landing the build included.")


class PeriodOut(Out):
    start_date: date
    end_date: date
    days: int


class AnswerOut(Out):
    timezone: str = Field(description="The tenant's IANA zone: days are its calendar days.")
    currency: str = Field(description="ISO 4217; every *_minor amount is in its minor units.")
    snapshot: SnapshotOut = Field(description="The published snapshot the answer was read from.")


class TotalsOut(Out):
    revenue_minor: int = Field(description="Order totals of counted orders.")
    refunds_minor: int = Field(description="Succeeded refunds made in the period.")
    net_revenue_minor: int
    orders: int
    units: int
    new_customers: int = Field(description="Customers whose first counted order is in the period.")
    average_order_value_minor: int | None


class ChangeOut(Out):
    absolute: int | None
    pct: Rate | None = Field(description="Change in percent of the previous value; null if 0.")


class TopProductOut(Out):
    product_id: str
    sku: str | None
    product_name: str | None
    category_path: str | None
    units_sold: int
    order_count: int
    revenue_minor: int
    margin_minor: int | None
    revenue_rank: int


class LowStockItemOut(Out):
    product_id: str
    variant_id: str | None
    sku: str | None
    product_name: str | None
    variant_name: str | None
    stock_quantity: int
    min_stock_level: int
    is_out_of_stock: bool
    days_of_cover: Rate | None


class LowStockOut(Out):
    count: int
    out_of_stock_count: int
    items: list[LowStockItemOut]


class OverviewOut(AnswerOut):
    period: PeriodOut
    previous_period: PeriodOut = Field(description="Equal length, ending the day before.")
    totals: TotalsOut
    previous_totals: TotalsOut
    change: dict[str, ChangeOut] = Field(description="Per total: current minus previous.")
    customers_to_date: int = Field(description="Customers with a counted order up to end_date.")
    top_products_scope: Literal["all_time"] = Field(
        description="Top products rank all counted orders, not only the period's."
    )
    top_products: list[TopProductOut]
    low_stock: LowStockOut


class SalesFiguresOut(Out):
    order_count: int
    units: int
    new_customer_count: int
    guest_order_count: int
    refund_count: int
    gross_minor: int
    discounts_minor: int
    tax_minor: int
    shipping_minor: int
    total_minor: int
    refunds_minor: int
    net_revenue_minor: int
    average_order_value_minor: int | None


class SalesBucketOut(SalesFiguresOut):
    bucket: date = Field(description="First day of the day, week (Monday) or month.")
    start_date: date = Field(description="First day of the bucket inside the range.")
    end_date: date = Field(description="Last day of the bucket inside the range.")


class SalesSeriesOut(AnswerOut):
    period: PeriodOut
    interval: Interval
    buckets: list[SalesBucketOut]
    totals: SalesFiguresOut


class FunnelFiguresOut(Out):
    session_count: int
    product_view_sessions: int
    add_to_cart_sessions: int
    checkout_sessions: int
    order_sessions: int
    view_to_cart_rate: Rate | None
    cart_to_checkout_rate: Rate | None
    checkout_to_order_rate: Rate | None
    view_to_order_rate: Rate | None


class FunnelDayOut(FunnelFiguresOut):
    date: dt.date


class FunnelOut(AnswerOut):
    period: PeriodOut
    days: list[FunnelDayOut]
    totals: FunnelFiguresOut = Field(description="Rates of the summed steps.")


class ProductSummaryOut(Out):
    product_count: int
    sold_product_count: int
    units_sold: int
    revenue_minor: int
    costed_revenue_minor: int = Field(description="Revenue of the products whose cost is known.")
    margin_minor: int
    margin_rate: Rate | None


class CategoryOut(Out):
    category_path: str
    product_count: int
    sold_product_count: int
    units_sold: int
    order_count: int
    revenue_minor: int
    revenue_share: Rate | None
    margin_minor: int | None
    margin_rate: Rate | None


class ProductAnalyticsOut(AnswerOut):
    scope: Literal["all_time"] = Field(description="Over all counted orders in the snapshot.")
    summary: ProductSummaryOut
    top_products: list[TopProductOut]
    categories: list[CategoryOut]


class CustomerDayOut(Out):
    date: dt.date
    customer_count: int
    new_customer_count: int
    returning_customer_count: int
    guest_order_count: int


class NewVsReturningOut(Out):
    days: list[CustomerDayOut]
    new_customers: int = Field(description="Distinct: a customer is new once.")
    returning_customer_days: int = Field(
        description="A returning customer counts once per day with an order."
    )
    guest_orders: int


class CohortOut(Out):
    cohort_month: date
    customers: int
    orders: int
    lifetime_value_minor: int
    average_lifetime_value_minor: int | None
    vip_customers: int
    inactive_customers: int


class CustomerFlagsOut(Out):
    customers: int
    with_orders: int
    vip: int
    new: int
    inactive: int


class SegmentOut(Out):
    segment: str
    customers: int
    monetary_minor: int
    average_monetary_minor: int | None


class CustomerAnalyticsOut(AnswerOut):
    period: PeriodOut
    new_vs_returning: NewVsReturningOut
    cohorts: list[CohortOut] = Field(description="First-order months overlapping the period.")
    flags: CustomerFlagsOut = Field(description="As of the snapshot's build day.")
    segments: list[SegmentOut] = Field(description="RFM segments as of the build day.")


class RealtimeSourceOut(Out):
    snapshot: SnapshotOut | None = Field(description="The published snapshot at read time.")
    orders_base: Literal["snapshot", "current", "raw"] = Field(
        description="What order rows before the tail came from: the snapshot's mart, the lake's"
        " compacted current state (when the mart lacks a field), or raw rows only."
    )
    orders_base_files: int
    tail_since: datetime | None = Field(description="Raw rows landed after this were read.")
    tail_files: int
    event_files: int = Field(description="Raw event files read (today's UTC partitions).")


class RealtimeOut(Out):
    date: dt.date = Field(description="Today in the tenant's time zone.")
    timezone: str
    currency: str
    as_of: datetime
    orders: int = Field(description="Counted orders placed today (paid and later statuses).")
    revenue_minor: int
    units: int
    unique_customers: int
    last_order_at: datetime | None
    orders_placed: int = Field(description="Every order placed today, whatever its status.")
    orders_by_status: dict[str, int]
    events_by_type: dict[str, int]
    source: RealtimeSourceOut
