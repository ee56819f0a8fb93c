"""Request and response models for /api/v1/customers/ (the customer contract checks values)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from serving.api import Body, Out
from serving.pagination import Page, Paginated
from warehouse.entities.listing import sort_names

TIMESTAMP_HELP = "RFC 3339 with offset; set by the server when omitted."


class AddressIn(Body):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2, upper case.")


class CustomerFields(Body):
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    address: AddressIn | None = None
    accepts_email_marketing: bool | None = None
    accepts_sms_marketing: bool | None = None
    tags: list[str] | None = None
    created_at: str | None = Field(None, description=TIMESTAMP_HELP)
    updated_at: str | None = Field(None, description=TIMESTAMP_HELP)


class CustomerCreate(CustomerFields):
    id: str | None = Field(None, description="Your id for the customer; generated if omitted.")
    email: str = Field(description="Unique within the tenant (compared lower-cased).")


class CustomerReplace(CustomerFields):
    id: str | None = Field(None, description="If given, must equal the id in the path.")
    email: str


class CustomerPatch(CustomerFields):
    """A JSON merge patch: fields given replace, `null` clears, `address` merges."""

    id: str | None = None
    email: str | None = None


class AddressOut(Out):
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


class CustomerOut(Out):
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    address: AddressOut | None
    accepts_email_marketing: bool
    accepts_sms_marketing: bool
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class CustomerPage(Paginated[CustomerOut]):
    pass


class CustomerListQuery(Page):
    id: list[str] | None = Field(None, description="Only these ids (repeat the parameter).")
    email: str | None = Field(None, description="Exactly this address (case-insensitive).")
    q: str | None = Field(None, description="Case-insensitive text in the name or email.")
    tag: str | None = None
    country: str | None = Field(None, description="Address country (ISO 3166-1 alpha-2).")
    accepts_email_marketing: bool | None = None
    created_after: AwareDatetime | None = Field(None, description="created_at >= this.")
    created_before: AwareDatetime | None = Field(None, description="created_at < this.")
    updated_after: AwareDatetime | None = Field(None, description="updated_at >= this.")
    sort: Literal[sort_names("customers")] = Field(  # type: ignore[valid-type]
        "id", description="Column to sort by; `-` first for descending."
    )


class NoteCreate(Body):
    body: str = Field(description="1-10,000 characters.")
    author: str | None = Field(None, description="Defaults to the calling user or key.")


class NoteOut(Out):
    id: str
    customer_id: str
    body: str
    author: str | None
    created_at: datetime
