"""The synthetic data generator: determinism, contract validity, and a shape worth analysing."""

from __future__ import annotations

import gzip
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingestion.generator import ENTITIES, generate, tenant_definitions
from ingestion.generator.invalid import KINDS
from ingestion.generator.lakesink import CONTRACT_OF
from warehouse.contracts import validate_records


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _validate(path: Path) -> tuple[dict[str, pa.Table], list, int]:
    data = path.read_bytes()
    entity = path.name.split(".")[0]
    tables, errors = validate_records(CONTRACT_OF[entity], data)
    return tables, errors, data.count(b"\n")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    generate("tiny", root, seed=7, progress=False)
    return root


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> dict[str, pa.Table]:
    """One bigger tenant (2,000 orders over a year) loaded through the contracts."""
    root = tmp_path_factory.mktemp("shop")
    sizes = {"products": 200, "customers": 600, "orders": 2000, "days": 365, "price_samples": 40}
    generate("tiny", root, seed=3, overrides=sizes, tenants=1, progress=False)
    tables: dict[str, pa.Table] = {}
    for path in sorted((root / tenant_definitions("tiny", 1)[0].slug).iterdir()):
        loaded, errors, _ = _validate(path)
        assert errors == []
        tables.update(loaded)
    return tables


def test_same_seed_gives_byte_identical_output(tiny, tmp_path):
    generate("tiny", tmp_path / "again", seed=7, progress=False)
    generate("tiny", tmp_path / "other", seed=8, progress=False)
    assert _files(tmp_path / "again") == _files(tiny)
    orders = "kaffeehaus-berlin/orders.ndjson"
    assert _files(tmp_path / "other")[orders] != _files(tiny)[orders]


def test_tiny_generates_in_well_under_a_second(tmp_path):
    generate("tiny", tmp_path / "warm", progress=False)  # imports and zone tables
    started = time.process_time()
    summary = generate("tiny", tmp_path / "timed", progress=False)
    assert time.process_time() - started < 1.0
    assert summary.rows > 10_000 and summary.rows_per_s > 0


def test_every_record_passes_its_contract(tiny):
    for path in sorted(tiny.glob("*/*.ndjson")):
        tables, errors, lines = _validate(path)
        assert errors == [], path
        main = tables[next(iter(tables))]
        assert main.num_rows == lines > 0, path
    assert {p.name for p in tiny.glob("*/*.ndjson")} == {f"{e}.ndjson" for e in ENTITIES}


def test_tenants_have_their_zones_and_currencies(tiny):
    expected = {
        "kaffeehaus-berlin": ("EUR", ("+01:00", "+02:00")),
        "pacific-outfitters": ("USD", ("-08:00", "-07:00")),
        "tokyo-zakka": ("JPY", ("+09:00",)),
    }
    for slug, (currency, offsets) in expected.items():
        lines = (tiny / slug / "orders.ndjson").read_text().splitlines()
        assert all(f'"currency":"{currency}"' in line for line in lines)
        stamps = [line.split('"created_at":"')[1][:25] for line in lines]
        assert {s[-6:] for s in stamps} <= set(offsets)
    jpy, _, _ = _validate(tiny / "tokyo-zakka" / "orders.ndjson")
    prices = jpy["order_items"].column("unit_price_minor").to_pylist()
    assert min(prices) >= 10 and all(p % 10 == 0 for p in prices)  # yen: no minor digits


def test_order_money_adds_up_exactly(shop):
    orders, items = shop["orders"].to_pylist(), shop["order_items"].to_pylist()
    lines: dict[str, int] = Counter()
    for item in items:
        net = item["quantity"] * item["unit_price_minor"] - item["discount_minor"]
        assert 0 <= item["discount_minor"] <= item["quantity"] * item["unit_price_minor"]
        lines[item["order_id"]] += net
    for order in orders:
        assert order["subtotal_minor"] == lines[order["id"]]
        net = order["subtotal_minor"] - order["discount_minor"]
        assert order["total_minor"] == net + order["tax_minor"] + order["shipping_minor"]
        assert order["tax_minor"] == (net * 1900 + 5000) // 10000  # 19 % VAT, half up


def test_customers_spread_over_recency_and_frequency(shop):
    orders = shop["orders"].filter(pc.is_valid(shop["orders"].column("customer_id")))
    end = pc.max(shop["orders"].column("created_at")).as_py()
    counts, last = Counter(), {}
    for row in orders.select(["customer_id", "created_at"]).to_pylist():
        counts[row["customer_id"]] += 1
        last[row["customer_id"]] = max(
            last.get(row["customer_id"], row["created_at"]), row["created_at"]
        )
    frequency = sorted(counts.values())
    recency = sorted((end - at).days for at in last.values())
    quintiles = lambda v: [v[int(len(v) * q)] for q in (0.2, 0.4, 0.6, 0.8)]  # noqa: E731
    assert frequency.count(1) > len(frequency) * 0.3  # plenty of one-time buyers
    assert frequency[-1] >= 10 and quintiles(frequency)[-1] >= 3  # and a loyal tail
    assert len(set(quintiles(recency))) == 4  # recency separates customers
    assert recency[0] <= 7 and recency[-1] >= 180


def test_product_popularity_is_zipf_skewed(shop):
    items = shop["order_items"]
    by_product = items.group_by("product_id").aggregate([("quantity", "sum")])
    sold = sorted(by_product.column("quantity_sum").to_pylist(), reverse=True)
    top = sum(sold[: max(1, len(sold) // 10)])
    assert top / sum(sold) > 0.4


def test_funnel_follows_the_orders(shop):
    events, orders = shop["events"], shop["orders"]
    kinds = Counter(events.column("type").to_pylist())
    assert kinds["product_viewed"] > kinds["product_added_to_cart"] > kinds["checkout_started"]
    assert kinds["checkout_started"] > kinds["order_completed"] == orders.num_rows
    completed = events.filter(pc.equal(events.column("type"), "order_completed"))
    by_order = dict(zip(completed.column("order_id").to_pylist(),
                        completed.column("occurred_at").to_pylist(), strict=True))  # fmt: skip
    for order in orders.select(["id", "created_at"]).to_pylist():
        assert by_order[order["id"]] == order["created_at"]


def test_refunds_match_order_statuses(shop):
    orders = {o["id"]: o for o in shop["orders"].to_pylist()}
    paid_back: Counter = Counter()
    for refund in shop["refunds"].to_pylist():
        if refund["status"] == "succeeded":
            paid_back[refund["order_id"]] += refund["amount_minor"]
    statuses = Counter(o["status"] for o in orders.values())
    assert statuses["refunded"] and statuses["partially_refunded"] and statuses["cancelled"]
    for order_id, order in orders.items():
        if order["status"] == "refunded":
            assert paid_back[order_id] == order["total_minor"]
        elif order["status"] == "partially_refunded":
            assert 0 < paid_back[order_id] < order["total_minor"]
        else:
            assert paid_back[order_id] == 0


def _assert_stock_replays(tables: dict[str, pa.Table]) -> set[str]:
    """Replay stock events (last count, then deltas) and compare with products' stock."""
    events = tables["stock_events"].sort_by([("occurred_at", "ascending"), ("id", "ascending")])
    level: dict[tuple, int] = {}
    for e in events.to_pylist():
        key = (e["product_id"], e["variant_id"])
        level[key] = e["quantity"] if e["kind"] == "set" else level[key] + e["quantity"]
    per_product: Counter = Counter()
    for (product, _), quantity in level.items():
        per_product[product] += quantity
    for product in tables["products"].select(["id", "stock_quantity"]).to_pylist():
        assert per_product[product["id"]] == product["stock_quantity"] >= 0
    return set(events.column("reason").to_pylist())


def test_stock_events_replay_to_product_stock(shop):
    reasons = _assert_stock_replays(shop)
    assert {"sale", "restock", "adjustment", "return", "damage"} <= reasons


def test_prices_change_and_some_jumps_are_anomalous(shop):
    prices = shop["price_events"].sort_by(
        [("product_id", "ascending"), ("occurred_at", "ascending")]
    )
    rows = prices.select(["product_id", "price_minor"]).to_pylist()
    pairs = [
        (a, b) for a, b in zip(rows, rows[1:], strict=False) if a["product_id"] == b["product_id"]
    ]
    changes = [b["price_minor"] / a["price_minor"] - 1 for a, b in pairs if a != b]
    jumps = [c for c in changes if abs(c) >= 0.5]
    assert changes and 0 < len(jumps) < len(changes) * 0.2
    last = {r["product_id"]: r["price_minor"] for r in rows}
    for product in shop["products"].select(["id", "price_minor"]).to_pylist():
        assert last[product["id"]] == product["price_minor"]


def test_invalid_rows_are_varied_and_all_refused(tmp_path):
    summary = generate("tiny", tmp_path, seed=1, invalid_ratio=0.1, progress=False)
    kinds = Counter()
    for stats in summary.entities.values():
        kinds.update(stats["invalid"])
    assert set(kinds) == set(KINDS)
    for written in summary.files:
        _, errors, lines = _validate(tmp_path / written["path"])
        assert len({e.row for e in errors}) == written["invalid"] > 0, written
        assert lines == written["rows"]
    assert summary.invalid_rows == sum(f["invalid"] for f in summary.files)


def test_gzip_holds_the_same_lines(tiny, tmp_path):
    generate("tiny", tmp_path, seed=7, fmt="ndjson.gz", progress=False)
    for path in tiny.glob("*/*.ndjson"):
        zipped = tmp_path / path.parent.name / (path.name + ".gz")
        assert gzip.decompress(zipped.read_bytes()) == path.read_bytes()


def test_sizes_and_tenant_count_can_be_overridden(tmp_path):
    summary = generate("tiny", tmp_path, overrides={"orders": 40, "products": 7}, tenants=5,
                       progress=False)  # fmt: skip
    assert [t["currency"] for t in summary.tenants] == ["EUR", "USD", "JPY", "GBP", "CAD"]
    assert summary.entities["orders"]["rows"] == 5 * 40
    assert summary.entities["products"]["rows"] == 5 * 7
    with pytest.raises(ValueError, match="unknown size override"):
        generate("tiny", tmp_path, overrides={"widgets": 3}, progress=False)
    with pytest.raises(ValueError, match="unknown preset"):
        generate("huge", tmp_path, progress=False)


def test_tenant_definitions_for_the_control_db():
    tenants = [t.control_fields() for t in tenant_definitions("tiny")]
    assert tenants[:3] == [
        {"slug": "kaffeehaus-berlin", "name": "Kaffeehaus Berlin GmbH",
         "timezone": "Europe/Berlin", "currency": "EUR"},
        {"slug": "pacific-outfitters", "name": "Pacific Outfitters",
         "timezone": "America/Los_Angeles", "currency": "USD"},
        {"slug": "tokyo-zakka", "name": "Tokyo Zakka", "timezone": "Asia/Tokyo", "currency": "JPY"},
    ]  # fmt: skip
    assert len(tenant_definitions("large")) == 10
    slugs = [t.slug for t in tenant_definitions("tiny", tenants=12)]
    assert len(set(slugs)) == 12


def test_parquet_lands_through_the_lake_writer_once(tiny, tmp_path):
    ids = {"kaffeehaus-berlin": 11, "pacific-outfitters": 12, "tokyo-zakka": 13}
    first = generate("tiny", tmp_path, seed=7, fmt="parquet", tenant_ids=ids, progress=False)
    landed = {(f["tenant_id"], f["entity"]): f["rows"] for f in first.files}
    assert landed[(13, "orders")] == 300 and first.invalid_rows == 0
    orders = pq.read_table(tmp_path / "raw" / "orders", partitioning="hive")
    items = pq.read_table(tmp_path / "raw" / "order_items", partitioning="hive")
    assert sorted(set(orders.column("tenant_id").to_pylist())) == [11, 12, 13]
    assert set(orders.column("_source").to_pylist()) == {"generator"}
    lines = sum(p.read_text().count('"product_id"') for p in tiny.glob("*/orders.ndjson"))
    assert items.num_rows == lines
    before = sorted(tmp_path.rglob("*.parquet"))
    again = generate("tiny", tmp_path, seed=7, fmt="parquet", tenant_ids=ids, progress=False)
    assert sorted(tmp_path.rglob("*.parquet")) == before  # the replay landed nothing new
    assert again.files == first.files


def test_worker_processes_write_the_same_files(tmp_path):
    sizes = {"orders": 50, "customers": 30, "products": 20}
    generate("tiny", tmp_path / "one", seed=5, overrides=sizes, tenants=2, progress=False)
    generate("tiny", tmp_path / "two", seed=5, overrides=sizes, tenants=2, workers=2,
             progress=False)  # fmt: skip
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_small_chunks_keep_everything_consistent(tmp_path, monkeypatch):
    from ingestion.generator import tenant

    # Many chunks per tenant: stock counts between chunks, ids and sessions across chunks.
    monkeypatch.setattr(tenant, "ORDERS_PER_CHUNK", 60)
    monkeypatch.setattr(tenant, "ROWS_PER_CHUNK", 70)
    monkeypatch.setattr(tenant, "PRODUCTS_PER_CHUNK", 9)
    generate("tiny", tmp_path, tenants=1, overrides={"days": 400}, progress=False)
    root = tmp_path / "kaffeehaus-berlin"
    tables = {}
    for path in root.iterdir():
        loaded, errors, _ = _validate(path)
        assert errors == [], path
        tables.update(loaded)
    for entity in ("events", "stock_events", "price_events", "refunds", "customer_notes"):
        ids = tables[entity].column("id")
        assert pc.count_distinct(ids).as_py() == len(ids), entity
    assert "correction" in _assert_stock_replays(tables)
