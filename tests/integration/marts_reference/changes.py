"""Land a second wave of raw data on top of a generated lake: updates, deletes, refunds, retries.

Everything goes through the record contracts and the lake writer, as CRUD and ingestion would:
an order re-landed with a line dropped and a new refund, deleted orders (one with refunds),
a first sale of a product never sold (the third wave deletes it again), a sold product moved to
a category of its own, customers, customer notes, products, refunds, stock and storefront
events, a new order around the tenant's midnight that is also sent twice in one batch and
retried as a whole in another batch, and price events inserted into a series, deleted, and
moved to another series, and a stock event inserted into a SKU's history, and an event that
moves its session's start two days back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
    _first_sale(lake, tenant_id, touched["updated_order"], lines, touched)
    _update_customer(lake, tenant_id)
    _change_notes(lake, tenant_id)
    delete(lake, tenant_id, "delete-orders", "order",
           [touched["deleted_order"], touched["deleted_refunded_order"]])  # fmt: skip
    delete(lake, tenant_id, "delete-refund", "refund", [touched["deleted_refund"]])
    delete(lake, tenant_id, "delete-customer", "customer", [touched["deleted_customer"]])
    delete(lake, tenant_id, "delete-product", "product", [touched["deleted_product"]])
    _recategorize(lake, tenant_id, lines, touched)
    _change_prices(lake, tenant_id)
    for entity, contract in (("stock_events", "stock_event"), ("events", "event")):
        first = raw.current(lake, entity).filter(mine).sort("id").get_column("id")[0]
        delete(lake, tenant_id, f"delete-{entity}", contract, [first])
    _add_stock_event(lake, tenant_id)
    _start_session_earlier(lake, tenant_id)
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


def _first_sale(
    lake: Path, tenant_id: int, template_id: str, lines: pl.DataFrame, touched: dict
) -> None:
    # A paid order of one product no order held before; the third wave deletes it again.
    products = raw.current(lake, "products").filter(pl.col("tenant_id") == tenant_id)
    unsold = products.filter(~pl.col("id").is_in(lines.get_column("product_id").implode()))
    product = unsold.sort("id").row(0, named=True)
    template = order_record(lake, tenant_id, template_id)
    item = {"product_id": product["id"], "variant_id": None, "sku": product["sku"],
            "name": product["name"], "quantity": 2, "unit_price_minor": product["price_minor"],
            "discount_minor": 0}  # fmt: skip
    order = with_items(template, [item], id="ord-test-first-sale", order_number="#T-2",
                       status="paid", created_at="2026-10-30T12:00:00+00:00",
                       updated_at="2026-10-30T13:00:00+00:00")  # fmt: skip
    land(lake, tenant_id, "first-sale", "order", [order])
    touched["first_sale_order"], touched["first_sold_product"] = order["id"], product["id"]


def _update_customer(lake: Path, tenant_id: int) -> None:
    customers = raw.current(lake, "customers").filter(pl.col("tenant_id") == tenant_id)
    row = customers.sort("id").row(-1, named=True)
    record = {k: row[k] for k in ("id", "first_name", "last_name", "phone", "tags",
                                  "accepts_email_marketing", "accepts_sms_marketing")}  # fmt: skip
    record["email"] = "Changed." + row["email"]
    record["created_at"] = _stamp(row["created_at"])
    record["updated_at"] = "2026-10-30T08:00:00+00:00"
    land(lake, tenant_id, "update-customer", "customer", [record])


def _change_notes(lake: Path, tenant_id: int) -> None:
    # A note for a customer without one, and a deleted note: its delete carries only its id.
    notes = raw.current(lake, "customer_notes").filter(pl.col("tenant_id") == tenant_id)
    customers = raw.current(lake, "customers").filter(pl.col("tenant_id") == tenant_id)
    noted = notes.get_column("customer_id").unique().implode()
    quiet = _first(customers, "id", ~pl.col("id").is_in(noted))
    note = {"id": "note-test-new", "customer_id": quiet, "body": "Asked about a refund",
            "author": "user:1", "created_at": "2026-10-30T09:00:00+00:00"}  # fmt: skip
    land(lake, tenant_id, "new-note", "customer_note", [note])
    delete(lake, tenant_id, "delete-note", "customer_note", [notes.sort("id").get_column("id")[0]])


def _change_prices(lake: Path, tenant_id: int) -> None:
    prices = raw.current(lake, "price_events").filter(pl.col("tenant_id") == tenant_id)
    series = ["product_id", "variant_id"]
    long = prices.group_by(series).len().filter(pl.col("len") >= 3).sort(series).head(3)
    first, second, third = (
        prices.join(long.slice(i, 1), on=series, nulls_equal=True).sort("occurred_at", "id")
        for i in range(3)
    )
    e0, e1 = first.row(0, named=True), first.row(1, named=True)
    # Between the first two events of a series: the second's previous price changes.
    inserted = {
        "id": "price-test-new", "product_id": e0["product_id"], "variant_id": e0["variant_id"],
        "price_minor": e0["price_minor"] * 3, "currency": e0["currency"],
        "occurred_at": _stamp(e0["occurred_at"] + (e1["occurred_at"] - e0["occurred_at"]) / 2),
    }  # fmt: skip
    moved = third.row(1, named=True)
    moved = {k: moved[k] for k in ("id", "price_minor", "currency")} | {
        "product_id": e0["product_id"], "variant_id": e0["variant_id"],
        "occurred_at": _stamp(moved["occurred_at"]),
    }  # fmt: skip
    land(lake, tenant_id, "change-prices", "price_event", [inserted, moved])
    delete(lake, tenant_id, "delete-price", "price_event", [second.row(0, named=True)["id"]])


def _add_stock_event(lake: Path, tenant_id: int) -> None:
    # A delta in the middle of the busiest SKU's history: every later level moves. A stock
    # count later on, after deltas, resets the level: the events after it start from the count.
    stock = raw.current(lake, "stock_events").filter(pl.col("tenant_id") == tenant_id)
    sku = ["product_id", "variant_id"]
    busiest = stock.group_by(sku).len().sort("len", *sku, descending=True).head(1)
    events = stock.join(busiest, on=sku, nulls_equal=True).sort("occurred_at", "id")
    middle = events.row(events.height // 2, named=True)
    later = events.row(events.height * 3 // 4, named=True)
    at = {"product_id": middle["product_id"], "variant_id": middle["variant_id"]}
    delta = at | {"id": "stock-test-new", "kind": "delta", "quantity": -3, "reason": "damage",
                  "occurred_at": _stamp(middle["occurred_at"])}  # fmt: skip
    count = at | {"id": "stock-test-count", "kind": "set", "quantity": 77, "reason": "correction",
                  "occurred_at": _stamp(later["occurred_at"])}  # fmt: skip
    land(lake, tenant_id, "new-stock-event", "stock_event", [delta, count])


def _start_session_earlier(lake: Path, tenant_id: int) -> None:
    # The session now starts two days earlier: it leaves one funnel day for another.
    events = raw.current(lake, "events").filter(pl.col("tenant_id") == tenant_id)
    latest = events.sort("session_id", "occurred_at").row(-1, named=True)
    record = {"id": "event-test-earlier", "type": "page_viewed", "session_id": latest["session_id"],
              "customer_id": latest["customer_id"],
              "occurred_at": _stamp(latest["occurred_at"] - timedelta(days=2))}  # fmt: skip
    land(lake, tenant_id, "earlier-event", "event", [record])


def land_default_minimum(lake: Path, tenant_id: int) -> str:
    """Land a new version of a product without a minimum of its own (the tenant's default).

    Landed before the first build (the last product by id: no later change touches it).
    Return its id.
    """
    products = raw.current(lake, "products").filter(pl.col("tenant_id") == tenant_id)
    product = products.sort("id", descending=True).row(0, named=True)
    update = _product_update(product, min_stock_level=0)
    land(lake, tenant_id, "default-minimum", "product", [update])
    return product["id"]


def _product_update(product: dict, **changes) -> dict:
    # The next version of a current product row as a contract record.
    record = {k: v for k, v in product.items() if k not in ("tenant_id", "date")
              and not k.startswith("_")}  # fmt: skip
    updated_at = _stamp(product["updated_at"] + timedelta(seconds=1))
    return {**record, "created_at": _stamp(product["created_at"]), "updated_at": updated_at,
            **changes}  # fmt: skip


def _recategorize(lake: Path, tenant_id: int, lines: pl.DataFrame, touched: dict) -> None:
    # A sold product moves to a category of its own: its orders count there instead.
    products = raw.current(lake, "products").filter(pl.col("tenant_id") == tenant_id)
    busiest = lines.group_by("product_id").len().sort("len", "product_id", descending=True)
    product_id = busiest.filter(
        ~pl.col("product_id").is_in([touched["deleted_product"]])
    ).get_column("product_id")[0]
    product = products.filter(pl.col("id") == product_id).row(0, named=True)
    update = _product_update(product, category="Recategorized", subcategory=None)
    land(lake, tenant_id, "recategorize", "product", [update])
    touched["recategorized_product"] = product_id


def land_third_wave(lake: Path, tenant_id: int, touched: dict[str, str]) -> str:
    """Delete an order refunded days after it was placed (none the second wave touched).

    Its refund does not change, yet stops counting on its own day: a build must find that day
    through the order (landed after the second wave's build). Return the order's id. Also
    delete the second wave's first sale of a product: the product has no sale left.
    """
    delete(lake, tenant_id, "delete-first-sale", "order", [touched["first_sale_order"]])
    mine = (pl.col("tenant_id") == tenant_id) & ~pl.col("id").is_in(list(touched.values()))
    orders = raw.current(lake, "orders").filter(
        mine & pl.col("status").is_in(["paid", "fulfilled", "refunded", "partially_refunded"])
    )
    refunds = raw.current(lake, "refunds").filter(
        (pl.col("tenant_id") == tenant_id) & (pl.col("status") == "succeeded")
    )
    late = refunds.join(
        orders.select(pl.col("id").alias("order_id"), pl.col("created_at").alias("placed_at")),
        on="order_id",
    ).filter(
        (pl.col("created_at") - pl.col("placed_at") > timedelta(days=2))
        & ~pl.col("order_id").is_in(list(touched.values()))
    )
    order_id = late.sort("order_id").get_column("order_id")[0]
    delete(lake, tenant_id, "delete-late-refunded-order", "order", [order_id])
    return order_id
