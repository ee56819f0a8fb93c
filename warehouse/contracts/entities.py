"""The record contracts, version 1: field lists per ingest entity (see CONTRACTS-SPEC.md)."""

from __future__ import annotations

from warehouse.contracts.fields import Field, opt, req

MONEY = {"ge": 0}
COUNT = {"ge": 0}

ORDER_STATUSES = ("pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded")
EVENT_TYPES = (
    "page_viewed",
    "product_viewed",
    "product_added_to_cart",
    "product_removed_from_cart",
    "checkout_started",
    "order_completed",
    "search_performed",
)
STOCK_KINDS = ("delta", "set")
STOCK_REASONS = ("sale", "restock", "adjustment", "return", "damage", "correction")
REFUND_STATUSES = ("pending", "succeeded", "failed")

TAGS = opt("tags", "tags", max_len=100)
CREATED = req("created_at", "ts")
UPDATED = req("updated_at", "ts")

PRODUCT: tuple[Field, ...] = (
    req("id", "str"),
    req("sku", "str"),
    req("name", "str"),
    opt("description", "str"),
    opt("category", "str", max_len=256),
    opt("subcategory", "str", max_len=256),
    req("price_minor", "int", **MONEY),
    opt("cost_minor", "int", **MONEY),
    req("currency", "str", fmt="currency"),
    opt("stock_quantity", "int", default=0, **COUNT),
    opt("min_stock_level", "int", default=0, **COUNT),
    TAGS,
    opt("meta_title", "str", max_len=512),
    opt("meta_description", "str", max_len=2048),
    opt("is_active", "bool", default=True),
    opt(
        "variants",
        "list",
        max_len=1000,
        children=(
            req("id", "str"),
            req("sku", "str"),
            opt("name", "str"),
            opt("attributes", "attrs", max_len=50),
            opt("price_minor", "int", **MONEY),
            opt("stock_quantity", "int", **COUNT),
        ),
    ),
    CREATED,
    UPDATED,
)

CUSTOMER: tuple[Field, ...] = (
    req("id", "str"),
    req("email", "str", fmt="email", max_len=254),
    opt("first_name", "str", max_len=256),
    opt("last_name", "str", max_len=256),
    opt("phone", "str", max_len=64),
    opt(
        "address",
        "object",
        children=(
            opt("line1", "str", max_len=512),
            opt("line2", "str", max_len=512),
            opt("city", "str", max_len=256),
            opt("region", "str", max_len=256),
            opt("postal_code", "str", max_len=32),
            opt("country", "str", fmt="country"),
        ),
    ),
    opt("accepts_email_marketing", "bool", default=False),
    opt("accepts_sms_marketing", "bool", default=False),
    TAGS,
    CREATED,
    UPDATED,
)

ORDER_ITEM: tuple[Field, ...] = (
    req("product_id", "str"),
    opt("variant_id", "str"),
    req("sku", "str"),
    req("name", "str"),
    req("quantity", "int", ge=1),
    req("unit_price_minor", "int", **MONEY),
    opt("discount_minor", "int", default=0, **MONEY),
)

ORDER: tuple[Field, ...] = (
    req("id", "str"),
    req("order_number", "str", max_len=128),
    opt("customer_id", "str"),
    req("status", "str", choices=ORDER_STATUSES),
    req("currency", "str", fmt="currency"),
    req("subtotal_minor", "int", **MONEY),
    opt("discount_minor", "int", default=0, **MONEY),
    opt("tax_minor", "int", default=0, **MONEY),
    opt("shipping_minor", "int", default=0, **MONEY),
    req("total_minor", "int", **MONEY),
    CREATED,
    UPDATED,
    req("items", "list", min_len=1, max_len=1000, children=ORDER_ITEM),
    opt(
        "payment",
        "object",
        children=(
            opt("provider", "str", max_len=64),
            opt("status", "str", max_len=64),
            opt("reference", "str", max_len=256),
        ),
    ),
)

EVENT: tuple[Field, ...] = (
    req("id", "str"),
    req("type", "str", choices=EVENT_TYPES),
    req("occurred_at", "ts"),
    opt("customer_id", "str"),
    req("session_id", "str"),
    opt("product_id", "str"),
    opt("order_id", "str"),
    opt("properties", "json"),
)

STOCK_EVENT: tuple[Field, ...] = (
    req("id", "str"),
    req("product_id", "str"),
    opt("variant_id", "str"),
    req("kind", "str", choices=STOCK_KINDS),
    req("quantity", "int"),
    req("reason", "str", choices=STOCK_REASONS),
    req("occurred_at", "ts"),
)

PRICE_EVENT: tuple[Field, ...] = (
    req("id", "str"),
    req("product_id", "str"),
    opt("variant_id", "str"),
    req("price_minor", "int", **MONEY),
    req("currency", "str", fmt="currency"),
    req("occurred_at", "ts"),
)

REFUND: tuple[Field, ...] = (
    req("id", "str"),
    req("order_id", "str"),
    req("amount_minor", "int", ge=1),
    req("currency", "str", fmt="currency"),
    opt("reason", "str", max_len=1024),
    opt("status", "str", choices=REFUND_STATUSES, default="succeeded"),
    CREATED,
)

CUSTOMER_NOTE: tuple[Field, ...] = (
    req("id", "str"),
    req("customer_id", "str"),
    req("body", "str", max_len=10_000),
    opt("author", "str", max_len=256),
    CREATED,
)

# Payments (issue 6): landed by the payments API and the Stripe webhook, not by merchants.
PAYMENT_STATUSES = ("pending", "succeeded", "failed", "canceled")
PAYMENT_EVENT_OUTCOMES = ("applied", "stale", "unmatched")
PROVIDER_TEXT = {"max_len": 64}

PAYMENT: tuple[Field, ...] = (
    req("id", "str"),
    req("order_id", "str"),
    req("provider", "str", **PROVIDER_TEXT),
    req("status", "str", choices=PAYMENT_STATUSES),
    opt("provider_status", "str", **PROVIDER_TEXT),
    req("currency", "str", fmt="currency"),
    req("amount_minor", "int", **MONEY),
    opt("amount_captured_minor", "int", default=0, **MONEY),
    opt("amount_refunded_minor", "int", default=0, **MONEY),
    opt("failure_code", "str", **PROVIDER_TEXT),
    CREATED,
    UPDATED,
)

DISPUTE: tuple[Field, ...] = (
    req("id", "str"),
    req("payment_id", "str"),
    req("order_id", "str"),
    req("provider", "str", **PROVIDER_TEXT),
    req("status", "str", **PROVIDER_TEXT),
    opt("reason", "str", **PROVIDER_TEXT),
    req("currency", "str", fmt="currency"),
    req("amount_minor", "int", **MONEY),
    CREATED,
    UPDATED,
)

PAYMENT_EVENT: tuple[Field, ...] = (
    req("id", "str"),
    req("provider", "str", **PROVIDER_TEXT),
    req("type", "str", **PROVIDER_TEXT),
    req("object_id", "str"),
    opt("payment_id", "str"),
    opt("order_id", "str"),
    req("outcome", "str", choices=PAYMENT_EVENT_OUTCOMES),
    opt("livemode", "bool", default=False),
    CREATED,
)
