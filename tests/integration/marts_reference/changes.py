"""Land a second wave of raw data on top of a generated lake: updates, deletes, refunds, retries.

Everything goes through the record contracts and the lake writer, as CRUD and ingestion would:
an order re-landed with a line dropped and a new refund, deleted orders (one with refunds),
customers, products, refunds, stock and storefront events, a new order around the tenant's
midnight that is also sent twice in one batch and retried as a whole in another batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tests.integration.marts_reference import raw
from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import batch_id_for, land_batch


def order_record(lake: Path, tenant_id: int, order_id: str) -> dict:
    """Return the current version of an order as a contract record (items included)."""
    order = (
        raw.current(lake, "orders")
        .filter((pl.col("tenant_id") == tenant_id) & (pl.col("id") == order_id))
        .row(0, named=True)
    )
    lines = (
        raw.current_lines(lake)
        .filter((pl.col("tenant_id") == tenant_id) & (pl.col("order_id") == order_id))
        .sort("line_number")
    )
    items = [
        {k: line[k] for k in ("product_id", "variant_id", "sku", "name", "quantity",
                              "unit_price_minor", "discount_minor")}
        for line in lines.iter_rows(named=True)
    ]  # fmt: skip
    record = {k: order[k] for k in ("id", "order_number", "customer_id", "status", "currency",
                                    "subtotal_minor", "discount_minor", "tax_minor",
                                    "shipping_minor", "total_minor")}  # fmt: skip
    record["created_at"] = _stamp(order["created_at"])
    record["updated_at"] = _stamp(order["updated_at"])
    record["payment"] = {k: order[f"payment_{k}"] for k in ("provider", "status", "reference")}
    record["items"] = items
    return record


def with_items(record: dict, items: list[dict], **changes) -> dict:
    """Return the order with new items and the subtotal and total that follow from them."""
    subtotal = sum(i["quantity"] * i["unit_price_minor"] - i["discount_minor"] for i in items)
    discount = min(record["discount_minor"], subtotal)
    total = subtotal - discount + record["tax_minor"] + record["shipping_minor"]
    return {**record, "items": items, "subtotal_minor": subtotal, "discount_minor": discount,
            "total_minor": total, **changes}  # fmt: skip


def land(lake: Path, tenant_id: int, name: str, contract: str, records: list[dict]) -> None:
    """Validate records and land them as one batch (every record must be valid)."""
    tables, errors = validate_records(contract, records)
    assert not errors, errors
    batch = batch_id_for(tenant_id, f"reference-test:{name}", 0)
    land_batch(lake, tenant_id, batch, tables, source="api")


def delete(lake: Path, tenant_id: int, name: str, contract: str, ids: list[str]) -> None:
    """Land deletes of ``ids`` as one batch."""
    tables = CONTRACTS[contract].delete_tables(ids)
    batch = batch_id_for(tenant_id, f"reference-test:{name}", 0)
    land_batch(lake, tenant_id, batch, tables, source="crud", op="delete")


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def _first(frame: pl.DataFrame, column: str, condition: pl.Expr) -> str:
    return frame.filter(condition).sort(column).get_column(column)[0]


def land_changes(lake: Path, tenant_id: int, midnight_utc: str) -> dict[str, str]:
    """Land the second wave for one tenant; return the ids it touched, by role."""
    mine = pl.col("tenant_id") == tenant_id
    orders, refunds = (
        raw.current(lake, "orders").filter(mine),
        raw.current(lake, "refunds").filter(mine),
    )
    lines = raw.current_lines(lake).filter(mine)
    multi_line = lines.group_by("order_id").len().filter(pl.col("len") >= 2).get_column("order_id")
    touched = {
        "updated_order": _first(orders, "id", (pl.col("status") == "fulfilled")
                                & pl.col("id").is_in(multi_line.implode())),
        "deleted_refunded_order": _first(orders, "id", pl.col("status") == "refunded"),
    }  # fmt: skip
    touched["deleted_order"] = _first(orders, "id", (pl.col("status") == "paid"))
    touched["deleted_refund"] = _first(
        refunds, "id", (pl.col("status") == "succeeded")
        & (pl.col("order_id") != touched["deleted_refunded_order"])
    )  # fmt: skip
    touched["deleted_customer"] = _first(orders, "customer_id", pl.col("customer_id").is_not_null())
    touched["deleted_product"] = _first(
        lines, "product_id", pl.col("order_id") == touched["updated_order"]
    )
    _update_order(lake, tenant_id, touched["updated_order"])
    _new_order(lake, tenant_id, touched["updated_order"], midnight_utc, touched)
    _update_customer(lake, tenant_id)
    delete(lake, tenant_id, "delete-orders", "order",
           [touched["deleted_order"], touched["deleted_refunded_order"]])  # fmt: skip
    delete(lake, tenant_id, "delete-refund", "refund", [touched["deleted_refund"]])
    delete(lake, tenant_id, "delete-customer", "customer", [touched["deleted_customer"]])
    delete(lake, tenant_id, "delete-product", "product", [touched["deleted_product"]])
    for entity, contract in (("stock_events", "stock_event"), ("events", "event")):
        first = raw.current(lake, entity).filter(mine).sort("id").get_column("id")[0]
        delete(lake, tenant_id, f"delete-{entity}", contract, [first])
    return touched


def _update_order(lake: Path, tenant_id: int, order_id: str) -> None:
    record = order_record(lake, tenant_id, order_id)
    updated = with_items(record, record["items"][:-1], status="partially_refunded",
                         updated_at="2026-10-30T12:00:00+00:00")  # fmt: skip
    land(lake, tenant_id, "update-order", "order", [updated])
    refund = {"id": f"ref-test-{order_id}", "order_id": order_id, "amount_minor": 100,
              "currency": record["currency"], "reason": "damaged", "status": "succeeded",
              "created_at": "2026-10-30T12:00:00+00:00"}  # fmt: skip
    land(lake, tenant_id, "new-refund", "refund", [refund])


def _new_order(lake: Path, tenant_id: int, template_id: str, at: str, touched: dict) -> None:
    template = order_record(lake, tenant_id, template_id)
    first = with_items(template, template["items"], id="ord-test-new", order_number="#T-1",
                       status="pending", created_at=at, updated_at=at)  # fmt: skip
    # Sent twice in one batch (the later copy wins), then retried whole in another batch.
    paid = {**first, "status": "paid"}
    land(lake, tenant_id, "new-order", "order", [first, paid])
    land(lake, tenant_id, "new-order-retry", "order", [first, paid])
    touched["new_order"] = "ord-test-new"


def _update_customer(lake: Path, tenant_id: int) -> None:
    customers = raw.current(lake, "customers").filter(pl.col("tenant_id") == tenant_id)
    row = customers.sort("id").row(-1, named=True)
    record = {k: row[k] for k in ("id", "first_name", "last_name", "phone", "tags",
                                  "accepts_email_marketing", "accepts_sms_marketing")}  # fmt: skip
    record["email"] = "Changed." + row["email"]
    record["created_at"] = _stamp(row["created_at"])
    record["updated_at"] = "2026-10-30T08:00:00+00:00"
    land(lake, tenant_id, "update-customer", "customer", [record])
