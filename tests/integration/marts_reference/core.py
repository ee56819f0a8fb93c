"""Reference facts and dimensions: current versions of orders, lines, refunds, products and
customers, in the marts' column names (payments and the orders' money: payments.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.integration.marts_reference import raw

PAID = ["paid", "fulfilled", "refunded", "partially_refunded"]


def fct_orders(lake: Path) -> pl.DataFrame:
    """One row per current order (without the money columns payments.order_money adds)."""
    orders = raw.current(lake, "orders")
    return orders.select(
        "tenant_id", pl.col("id").alias("order_id"), "order_number", "customer_id", "status",
        "currency", "subtotal_minor", "discount_minor", "tax_minor", "shipping_minor",
        "total_minor", pl.col("status").is_in(PAID).alias("is_paid"),
        pl.col("customer_id").is_null().alias("is_guest"), "created_at", "updated_at",
        "payment_provider", "payment_status", "payment_reference", "_batch_id", "_ingested_at",
    )  # fmt: skip


def fct_order_items(lake: Path) -> pl.DataFrame:
    """One row per line of each current order."""
    lines = raw.current_lines(lake)
    gross = pl.col("quantity") * pl.col("unit_price_minor")
    return lines.select(
        "tenant_id", "order_id", "line_number", "product_id", "variant_id", "sku",
        pl.col("name").alias("item_name"), "currency", "quantity", "unit_price_minor",
        gross.alias("line_gross_minor"), "discount_minor",
        (gross - pl.col("discount_minor")).alias("line_net_minor"), "order_created_at",
        "_batch_id", "_ingested_at",
    )  # fmt: skip


def fct_refunds(lake: Path) -> pl.DataFrame:
    """One row per current refund."""
    refunds = raw.current(lake, "refunds")
    return refunds.select(
        "tenant_id", pl.col("id").alias("refund_id"), "order_id", "status", "reason", "currency",
        "amount_minor", (pl.col("status") == "succeeded").alias("is_succeeded"), "created_at",
        "_batch_id", "_ingested_at",
    )  # fmt: skip


def dim_products(lake: Path) -> pl.DataFrame:
    """One row per current product with variant count, catalogue stock and category path."""
    products = raw.current(lake, "products")
    rows = []
    for p in products.iter_rows(named=True):
        variants = p["variants"] or []
        stock = sum(v["stock_quantity"] or 0 for v in variants) if variants else p["stock_quantity"]
        path = p["category"] or "Uncategorized"
        if p["subcategory"] is not None:
            path += " > " + p["subcategory"]
        rows.append({
            "tenant_id": p["tenant_id"], "product_id": p["id"], "sku": p["sku"],
            "product_name": p["name"], "description": p["description"], "category": p["category"],
            "subcategory": p["subcategory"], "category_path": path, "tags": p["tags"],
            "meta_title": p["meta_title"], "meta_description": p["meta_description"],
            "variant_count": len(variants), "currency": p["currency"],
            "price_minor": p["price_minor"], "cost_minor": p["cost_minor"],
            "unit_margin_minor": None if p["cost_minor"] is None
            else p["price_minor"] - p["cost_minor"],
            "total_stock_quantity": stock or 0, "min_stock_level": p["min_stock_level"],
            "is_active": p["is_active"], "has_cost": p["cost_minor"] is not None,
            "created_at": p["created_at"], "updated_at": p["updated_at"],
            "_ingested_at": p["_ingested_at"],
        })  # fmt: skip
    # Variants keep their Arrow type (attributes stay a map) by not passing through Python rows.
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(products.get_column("variants"))


def dim_customers(lake: Path) -> pl.DataFrame:
    """One row per current customer with their support notes counted."""
    customers = raw.current(lake, "customers")
    notes = raw.current(lake, "customer_notes")
    counted = notes.group_by("tenant_id", "customer_id").agg(
        pl.len().alias("note_count"),
        pl.col("created_at").max().alias("last_note_at"),
        pl.col("_ingested_at").max().alias("notes_ingested_at"),
    )
    joined = customers.rename({"id": "customer_id"}).join(
        counted, on=["tenant_id", "customer_id"], how="left"
    )
    return joined.select(
        "tenant_id", "customer_id", "email", "first_name", "last_name", "phone", "address_line1",
        "address_line2", "address_city", "address_region", "address_postal_code",
        "address_country", "tags", pl.col("note_count").fill_null(0), "accepts_email_marketing",
        "accepts_sms_marketing", "created_at", "updated_at", "last_note_at",
        pl.max_horizontal("_ingested_at", "notes_ingested_at").alias("_ingested_at"),
    )  # fmt: skip
