"""Request and response models for /api/v1/orders/ (the order contract checks values and sums)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from serving.api import Body, Out
from serving.pagination import Page, Paginated
from warehouse.contracts.entities import ORDER_STATUSES, REFUND_STATUSES
from warehouse.entities.listing import sort_names

TIMESTAMP_HELP = "RFC 3339 with offset; set by the server when omitted."
OrderStatus = Literal[ORDER_STATUSES]  # type: ignore[valid-type]


class ItemIn(Body):
    product_id: str
    variant_id: str | None = None
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int | None = None


class PaymentIn(Body):
    provider: str | None = None
    status: str | None = None
    reference: str | None = None


class OrderFields(Body):
    customer_id: str | None = Field(None, description="An existing customer; null for a guest.")
    currency: str | None = Field(None, description="ISO 4217; the tenant's currency if omitted.")
    discount_minor: int | None = None
    tax_minor: int | None = None
    shipping_minor: int | None = None
    payment: PaymentIn | None = None
    created_at: str | None = Field(None, description=TIMESTAMP_HELP)
    updated_at: str | None = Field(None, description=TIMESTAMP_HELP)


class OrderCreate(OrderFields):
    id: str | None = Field(None, description="Your id for the order; generated if omitted.")
    order_number: str
    status: OrderStatus
    subtotal_minor: int = Field(description="Sum of quantity x unit price - item discount.")
    total_minor: int = Field(description="subtotal - discount + tax + shipping.")
    items: list[ItemIn]


class OrderReplace(OrderCreate):
    id: str | None = Field(None, description="If given, must equal the id in the path.")


class OrderPatch(OrderFields):
    """A JSON merge patch; `items` replace all lines. Status changes follow the state machine."""

    id: str | None = None
    order_number: str | None = None
    status: OrderStatus | None = None
    subtotal_minor: int | None = None
    total_minor: int | None = None
    items: list[ItemIn] | None = None


class ItemOut(Out):
    line_number: int
    product_id: str
    variant_id: str | None
    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int


class PaymentOut(Out):
    provider: str | None
    status: str | None
    reference: str | None


class OrderOut(Out):
    id: str
    order_number: str
    customer_id: str | None
    status: str
    currency: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    shipping_minor: int
    total_minor: int
    items: list[ItemOut]
    payment: PaymentOut | None
    created_at: datetime
    updated_at: datetime


class OrderPage(Paginated[OrderOut]):
    pass


class OrderListQuery(Page):
    id: list[str] | None = Field(None, description="Only these ids (repeat the parameter).")
    status: list[OrderStatus] | None = Field(None, description="Any of these (repeatable).")
    customer_id: str | None = None
    order_number: str | None = None
    currency: str | None = None
    min_total_minor: int | None = None
    max_total_minor: int | None = None
    created_after: AwareDatetime | None = Field(None, description="created_at >= this.")
    created_before: AwareDatetime | None = Field(None, description="created_at < this.")
    updated_after: AwareDatetime | None = Field(None, description="updated_at >= this.")
    sort: Literal[sort_names("orders")] = Field(  # type: ignore[valid-type]
        "-created_at", description="Column to sort by; `-` first for descending."
    )


class StatusUpdate(Body):
    status: OrderStatus = Field(description="The new status; see the state machine.")


class StatusChangeOut(Out):
    status: str
    changed_at: datetime = Field(description="The order's updated_at in that version.")
    recorded_at: datetime = Field(description="When that version landed.")
    source: str = Field(description="What landed it: crud, api (bulk ingest), webhook ...")


class StatusHistory(Out):
    order_id: str
    data: list[StatusChangeOut] = Field(description="Status changes, oldest first.")


class RefundCreate(Body):
    amount_minor: int = Field(description="At most the order total minus earlier refunds.")
    reason: str | None = None
    status: Literal[REFUND_STATUSES] = "succeeded"  # type: ignore[valid-type]
    currency: str | None = Field(None, description="Must be the order's; defaults to it.")
    id: str | None = Field(None, description="Your id for the refund; generated if omitted.")
    created_at: str | None = Field(None, description=TIMESTAMP_HELP)


class RefundOut(Out):
    id: str
    order_id: str
    amount_minor: int
    currency: str
    reason: str | None
    status: str
    created_at: datetime


class RefundCreated(Out):
    refund: RefundOut
    order: OrderOut = Field(description="The order after the refund (status updated).")
