"""Reference payments: the order-embedded payment objects and the Stripe payments, and the money
columns fct_orders derives from them and from the refunds.

Stripe payment versions are replayed in landing order through the webhook code's own rule
(``warehouse.payments.states.payment_supersedes``): a version replaces the held state only if
the rule says it supersedes it, exactly as an event is applied. A delete drops the state, and a
payment whose last landed version is a delete is gone.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.integration.marts_reference import raw
from warehouse.payments.states import Observed, payment_supersedes

PAID = ["paid", "fulfilled", "refunded", "partially_refunded"]
STRIPE_COLUMNS = [
    "tenant_id", "payment_id", "order_id", "payment_source", "provider", "status", "reference",
    "currency", "amount_minor", "created_at", "updated_at", "_batch_id", "_ingested_at",
    "provider_status", "failure_code", "amount_captured_minor", "amount_refunded_minor", "_seq",
]  # fmt: skip


def order_payments(lake: Path) -> pl.DataFrame:
    """One row per current order that carries payment details."""
    orders = raw.current(lake, "orders")
    payment = ["payment_provider", "payment_status", "payment_reference"]
    carrying = orders.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in payment))
    return carrying.select(
        "tenant_id", ("order:" + pl.col("id")).alias("payment_id"), pl.col("id").alias("order_id"),
        pl.lit("order").alias("payment_source"), pl.col("payment_provider").alias("provider"),
        pl.col("payment_status").alias("status"), pl.col("payment_reference").alias("reference"),
        "currency", pl.col("total_minor").alias("amount_minor"), "created_at", "updated_at",
        "_batch_id", "_ingested_at", pl.lit(None, pl.String).alias("provider_status"),
        pl.lit(None, pl.String).alias("failure_code"),
        pl.lit(None, pl.Int64).alias("amount_captured_minor"),
        pl.lit(None, pl.Int64).alias("amount_refunded_minor"), "_seq",
    )  # fmt: skip


def stripe_payments(lake: Path, schema: pl.Schema) -> pl.DataFrame:
    """One row per Stripe payment in the state the webhook code's rule keeps."""
    versions = raw.landed(lake, "payments")
    if versions.is_empty():
        return pl.DataFrame(schema=schema)
    held: dict[tuple[int, str], dict | None] = {}
    for version in versions.sort(raw.VERSION_ORDER).iter_rows(named=True):
        key = (version["tenant_id"], version["id"])
        if version["_op"] == "delete":
            held[key] = None
            continue
        current = held.get(key)
        was = Observed(current["status"], current["updated_at"]) if current else None
        if payment_supersedes(was, Observed(version["status"], version["updated_at"])):
            held[key] = version
    rows = [_stripe_row(v) for v in held.values() if v is not None]
    return pl.DataFrame(rows, schema=schema)


def _stripe_row(v: dict) -> dict:
    copied = ("tenant_id", "order_id", "provider", "status", "currency", "amount_minor",
              "created_at", "updated_at", "_batch_id", "_ingested_at", "provider_status",
              "failure_code", "amount_captured_minor", "amount_refunded_minor", "_seq")  # fmt: skip
    return {"payment_id": v["id"], "payment_source": "stripe", "reference": v["id"]} | {
        k: v[k] for k in copied
    }


def fct_payments(lake: Path) -> pl.DataFrame:
    """Both sources of payments, side by side."""
    orders = order_payments(lake).select(STRIPE_COLUMNS)
    return pl.concat([orders, stripe_payments(lake, orders.schema)])


def order_money(orders: pl.DataFrame, payments: pl.DataFrame, refunds: pl.DataFrame):
    """Add what was paid and refunded per order, and the financial status that follows."""
    stripe = (
        payments.filter(pl.col("payment_source") == "stripe")
        .group_by("tenant_id", "order_id")
        .agg(pl.len().alias("stripe_payment_count"), pl.col("amount_captured_minor").sum())
    )
    refunded = (
        refunds.filter(pl.col("is_succeeded"))
        .group_by("tenant_id", "order_id")
        .agg(pl.col("amount_minor").sum().alias("amount_refunded_minor"))
    )
    key = ["tenant_id", "order_id"]
    joined = orders.join(stripe, on=key, how="left").join(refunded, on=key, how="left")
    count = pl.col("stripe_payment_count").fill_null(0).cast(pl.Int64)
    paid = (
        pl.when(count > 0)
        .then(pl.col("amount_captured_minor"))
        .when(pl.col("status").is_in(PAID))
        .then(pl.col("total_minor"))
        .otherwise(0)
    )
    refunds_ = pl.col("amount_refunded_minor").fill_null(0)
    with_money = joined.with_columns(
        count.alias("stripe_payment_count"), paid.alias("amount_paid_minor"),
        refunds_.alias("amount_refunded_minor"),
    ).drop("amount_captured_minor")  # fmt: skip
    status = (
        pl.when(pl.col("amount_paid_minor") <= 0).then(pl.lit("unpaid"))
        .when(pl.col("amount_refunded_minor") <= 0).then(pl.lit("paid"))
        .when(pl.col("amount_refunded_minor") < pl.col("amount_paid_minor"))
        .then(pl.lit("partially_refunded"))
        .otherwise(pl.lit("refunded"))
    )  # fmt: skip
    return with_money.with_columns(status.alias("financial_status"))
