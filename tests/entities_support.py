"""Test helpers for entity reads: land records directly, and publish a stand-in mart snapshot.

The stand-in build database holds the marts the entity reader uses, with the column names and
types the dbt models give them (``product_id``, ``product_name``, zone-less UTC timestamps),
computed from the raw zone with plain SQL written here, independently of the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import batch_id_for, land_batch, raw_glob
from warehouse.lake.layout import entities
from warehouse.publish import MartSpec, Snapshot, publish

TS = "2026-03-01T10:00:00+01:00"
LATEST = "row_number() over (partition by tenant_id, {key} order by {order}) = 1"
ORDER = "_ingested_at desc, _batch_id desc, _seq desc"

# mart -> (raw entity, key, select list over the latest raw rows)
MARTS: dict[str, tuple[str, str, str]] = {
    "dim_products": (
        "products",
        "product_id",
        "id as product_id, sku, name as product_name, description, category, subcategory, tags, "
        "meta_title, meta_description, variants, currency, price_minor, cost_minor, "
        "stock_quantity, min_stock_level, is_active, timezone('UTC', created_at) as created_at, "
        "timezone('UTC', updated_at) as updated_at",
    ),
    "dim_customers": (
        "customers",
        "customer_id",
        "id as customer_id, email, first_name, last_name, phone, address_line1, address_line2, "
        "address_city, address_region, address_postal_code, address_country, tags, "
        "accepts_email_marketing, accepts_sms_marketing, "
        "timezone('UTC', created_at) as created_at, timezone('UTC', updated_at) as updated_at",
    ),
    "fct_orders": (
        "orders",
        "order_id",
        "id as order_id, order_number, customer_id, status, payment_provider, payment_status, "
        "payment_reference, currency, subtotal_minor, discount_minor, tax_minor, "
        "shipping_minor, total_minor, timezone('UTC', created_at) as created_at, "
        "timezone('UTC', updated_at) as updated_at, _batch_id",
    ),
    "fct_refunds": (
        "refunds",
        "refund_id",
        "id as refund_id, order_id, status, reason, currency, amount_minor, "
        "timezone('UTC', created_at) as created_at",
    ),
}


def land(lake_root: Path, tenant_id: int, contract: str, records: Sequence[dict], **kw) -> str:
    """Validate and land records as one batch; return its batch id."""
    tables, errors = validate_records(contract, list(records))
    assert not errors, errors
    batch_id = batch_id_for(tenant_id, kw.pop("key", None) or repr(records), 0)
    land_batch(lake_root, tenant_id, batch_id, tables, source="test", **kw)
    return batch_id


def land_delete(lake_root: Path, tenant_id: int, contract: str, ids: Sequence[str]) -> None:
    """Land delete records for ids."""
    tables = CONTRACTS[contract].delete_tables(list(ids))
    batch_id = batch_id_for(tenant_id, f"delete {contract} {list(ids)}", 0)
    land_batch(lake_root, tenant_id, batch_id, tables, source="test", op="delete")


def product(i: int, **fields: Any) -> dict[str, Any]:
    """Return a valid product record."""
    base = {
        "id": f"p{i}",
        "sku": f"SKU-{i}",
        "name": f"Product {i}",
        "price_minor": 100 * i,
        "currency": "EUR",
        "created_at": TS,
        "updated_at": TS,
    }
    return {**base, **fields}


def order(i: int, lines: int = 2, **fields: Any) -> dict[str, Any]:
    """Return a valid order with ``lines`` items of 250 each."""
    items = [
        {"product_id": "p1", "sku": "SKU-1", "name": "Product 1", "quantity": 1,
         "unit_price_minor": 250}
        for _ in range(lines)
    ]  # fmt: skip
    base = {
        "id": f"o{i}",
        "order_number": f"N-{i}",
        "status": "paid",
        "currency": "EUR",
        "subtotal_minor": 250 * lines,
        "total_minor": 250 * lines,
        "created_at": TS,
        "updated_at": TS,
        "items": items,
    }
    return {**base, **fields}


def publish_stand_in(
    lake_root: Path,
    var_dir: Path,
    *,
    drop: dict[str, Sequence[str]] | None = None,
    tail_from: Callable[[datetime], datetime] | None = None,
) -> Snapshot:
    """Build the marts from the raw zone of every tenant and publish them as a snapshot.

    ``tail_from`` maps the watermark to the recorded tail start (None: none recorded).
    """
    build_db = var_dir / "stand-in-build.duckdb"
    build_db.unlink(missing_ok=True)
    var_dir.mkdir(parents=True, exist_ok=True)
    landed = set(entities(lake_root))
    specs = []
    with duckdb.connect(str(build_db)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema marts")
        for mart, (entity, key, columns) in MARTS.items():
            if entity not in landed:
                continue
            _create(con, mart, _latest(lake_root, entity, "id"), columns, (drop or {}).get(mart))
            specs.append(MartSpec(mart, f'"marts"."{mart}"', (key,)))
        if "orders" in landed:
            _create_items(con, lake_root)
            specs.append(MartSpec("fct_order_items", '"marts"."fct_order_items"', ("order_id",)))
        watermark = _watermark(con, lake_root, landed)
    tail = tail_from(watermark) if tail_from and watermark else None
    return publish(build_db, var_dir, watermark=watermark, tail_from=tail, marts=specs)


def _source(lake_root: Path, entity: str) -> str:
    glob = raw_glob(lake_root, entity).replace("'", "''")
    return f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"


def _latest(lake_root: Path, entity: str, key: str) -> str:
    latest = LATEST.format(key=key, order=ORDER)
    return f"(select * from {_source(lake_root, entity)} qualify {latest})"


def _create(con, mart: str, latest: str, columns: str, drop: Sequence[str] | None) -> None:
    con.execute(
        f"create table marts.{mart} as select cast(tenant_id as bigint) as tenant_id, {columns} "
        f"from {latest} where _op <> 'delete'"
    )
    for column in drop or ():
        con.execute(f"alter table marts.{mart} drop column {column}")


def _create_items(con, lake_root: Path) -> None:
    con.execute(
        "create table marts.fct_order_items as select "
        "cast(i.tenant_id as bigint) as tenant_id, i.order_id, i.line_number, i.product_id, "
        "i.variant_id, i.sku, i.name as item_name, i.currency, i.quantity, i.unit_price_minor, "
        "i.discount_minor, timezone('UTC', i.order_created_at) as order_created_at "
        f"from {_source(lake_root, 'order_items')} as i "
        "join marts.fct_orders as o on o.tenant_id = i.tenant_id and o.order_id = i.order_id "
        "and o._batch_id = i._batch_id"
    )


def _watermark(con, lake_root: Path, landed: set[str]) -> datetime | None:
    sources = " union all ".join(
        f"select max(_ingested_at) as newest from {_source(lake_root, e)}" for e in sorted(landed)
    )
    return con.execute(f"select max(newest) from ({sources})").fetchone()[0]
