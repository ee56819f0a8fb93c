"""The entity reader: latest version per key over a base (raw, compacted state or snapshot)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.lib.rereads import CLAIM_GRACE
from tests.entities_support import land, land_delete, order, product, publish_stand_in
from warehouse.entities import reader
from warehouse.entities.sources import TAIL_LOOKBACK, Store, current_state_entities, resolve
from warehouse.entities.specs import PRODUCTS, SPECS, family
from warehouse.entities.sql import InstantSpan
from warehouse.lake import compact


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "lake", tmp_path / "var", 1)


def ids(store: Store, entity: str = "products") -> list[str]:
    return [row["id"] for row in reader.by_keys(store, entity, [f"p{i}" for i in range(10)])]


def names(store: Store) -> dict[str, str]:
    rows = reader.select(store, "products", lambda q: "select id, name from products")
    return {row["id"]: row["name"] for row in rows}


def lines(store: Store) -> dict[str, list[int]]:
    rows = reader.select(store, "order_items", lambda q: "select * from order_items")
    found: dict[str, list[int]] = {}
    for row in sorted(rows, key=lambda r: (r["order_id"], r["line_number"])):
        found.setdefault(row["order_id"], []).append(row["line_number"])
    return found


def test_nothing_landed_reads_empty(store):
    assert names(store) == {} and lines(store) == {}


def test_latest_version_wins_and_deletes_drop(store):
    land(store.lake_root, 1, "product", [product(1), product(2), product(3)])
    land(store.lake_root, 1, "product", [product(2, name="second")])
    land_delete(store.lake_root, 1, "product", ["p3"])
    assert names(store) == {"p1": "Product 1", "p2": "second"}


def test_a_record_sent_twice_in_one_batch_keeps_the_later_copy(store):
    land(store.lake_root, 1, "product", [product(1, name="a"), product(1, name="b")])
    assert names(store) == {"p1": "b"}


def test_order_lines_follow_the_orders_latest_version(store):
    land(store.lake_root, 1, "order", [order(1, lines=3), order(2, lines=2)])
    land(store.lake_root, 1, "order", [order(1, lines=1)])  # re-sent with fewer lines
    land_delete(store.lake_root, 1, "order", ["o2"])
    assert lines(store) == {"o1": [1]}


@pytest.mark.parametrize("base", ["current", "snapshot"])
def test_base_plus_tail_gives_the_same_answer_as_raw(store, base):
    land(store.lake_root, 1, "product", [product(i) for i in range(1, 6)])
    land(store.lake_root, 1, "order", [order(1, lines=3), order(2, lines=2)])
    if base == "current":
        compact(store.lake_root, min_files=1)
    else:
        publish_stand_in(store.lake_root, store.var_dir)
    assert {s.kind for s in resolve(store, family(PRODUCTS)).values()} == {base}
    # Changes after the base: an update, a delete, a new record, an order with fewer lines.
    land(store.lake_root, 1, "product", [product(2, name="changed"), product(7)])
    land_delete(store.lake_root, 1, "product", ["p4"])
    land(store.lake_root, 1, "order", [order(1, lines=1)])
    land_delete(store.lake_root, 1, "order", ["o2"])
    expected = {f"p{i}": f"Product {i}" for i in (1, 3, 5, 7)} | {"p2": "changed"}
    assert names(store) == expected
    assert lines(store) == {"o1": [1]}


def _march(day: int) -> str:
    return f"2026-03-{day:02d}T12:00:00+00:00"


@pytest.mark.parametrize("base", ["current", "snapshot"])
def test_a_span_may_leave_out_what_lies_beyond_it_but_never_returns_a_stale_version(store, base):
    # The first versions land well before the tail starts, so the base holds them.
    early = datetime.now(UTC) - 2 * TAIL_LOOKBACK
    first = [order(i, created_at=_march(day)) for i, day in ((1, 1), (2, 2), (3, 3), (4, 25))]
    land(store.lake_root, 1, "order", first, clock=lambda: early)
    if base == "current":
        compact(store.lake_root, min_files=1)
    else:
        publish_stand_in(store.lake_root, store.var_dir, tail_from=lambda watermark: watermark)
    # o2 moves out of the span, o3 is changed inside it and then moved out, o4 moves in;
    # each comes back with one line instead of two.
    land(store.lake_root, 1, "order", [order(2, lines=1, created_at=_march(20))])
    land(store.lake_root, 1, "order", [order(3, lines=1, created_at=_march(3), status="fulfilled")])
    land(store.lake_root, 1, "order", [order(3, lines=1, created_at=_march(21))])
    land(store.lake_root, 1, "order", [order(4, lines=1, created_at=_march(2))])
    march = InstantSpan(
        "created_at", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
    )

    def read(entity: str, sql: str, span: InstantSpan | None) -> dict[str, list]:
        found: dict[str, list] = {}
        for row in reader.select(store, entity, lambda q: sql, span=span):
            found.setdefault(row["id"], []).append(row["at"])
        return {key: sorted(values) for key, values in found.items()}

    orders = "select id, created_at as at from orders"
    lines = "select order_id as id, line_number as at from order_items"
    for entity, sql in (("orders", orders), ("order_items", lines)):
        current, spanned = read(entity, sql, None), read(entity, sql, march)
        assert {"o1", "o4"} <= spanned.keys()
        assert {key: current[key] for key in spanned} == spanned, entity


def test_a_slow_batch_stamped_before_the_watermark_is_still_read(store):
    land(store.lake_root, 1, "product", [product(1)])
    snapshot = publish_stand_in(store.lake_root, store.var_dir)
    # Stamped before the watermark but published after the build read the raw zone.
    late = snapshot.watermark - TAIL_LOOKBACK / 2
    land(store.lake_root, 1, "product", [product(2)], clock=lambda: late)
    assert names(store) == {"p1": "Product 1", "p2": "Product 2"}


def test_a_recorded_tail_start_replaces_the_look_back(store):
    land(store.lake_root, 1, "product", [product(1)])
    ahead = datetime.now(UTC) + TAIL_LOOKBACK / 2  # the look-back would reach both files
    land(store.lake_root, 1, "product", [product(2)], clock=lambda: ahead)
    snapshot = publish_stand_in(store.lake_root, store.var_dir, tail_from=lambda w: w)
    source = resolve(store, family(PRODUCTS))["products"]
    assert source.since == snapshot.tail_from == ahead
    assert source.tail_files == ()  # both files were published before the recorded start
    assert names(store) == {"p1": "Product 1", "p2": "Product 2"}


def test_a_batch_still_landing_during_the_build_is_read_from_its_recorded_start(store):
    land(store.lake_root, 1, "product", [product(1)])
    claimed = datetime.now(UTC) - TAIL_LOOKBACK * 2  # claimed long ago, visible only now
    snapshot = publish_stand_in(
        store.lake_root, store.var_dir, tail_from=lambda w: claimed - CLAIM_GRACE
    )
    land(store.lake_root, 1, "product", [product(2)], clock=lambda: claimed)
    assert resolve(store, family(PRODUCTS))["products"].since < claimed < snapshot.watermark
    assert names(store) == {"p1": "Product 1", "p2": "Product 2"}


def test_files_published_before_the_tail_starts_are_not_opened(store):
    land(store.lake_root, 1, "product", [product(1)])
    ahead = datetime.now(UTC) + 2 * TAIL_LOOKBACK  # a watermark well after both files landed
    land(store.lake_root, 1, "product", [product(2)], clock=lambda: ahead)
    publish_stand_in(store.lake_root, store.var_dir)
    source = resolve(store, family(PRODUCTS))["products"]
    assert source.kind == "snapshot" and source.tail_files == ()
    assert names(store) == {"p1": "Product 1", "p2": "Product 2"}


def test_a_mart_without_a_field_is_not_used(store):
    land(store.lake_root, 1, "product", [product(1, stock_quantity=7)])
    publish_stand_in(store.lake_root, store.var_dir, drop={"dim_products": ["stock_quantity"]})
    assert resolve(store, family(PRODUCTS))["products"].kind == "raw"
    (row,) = reader.by_keys(store, "products", ["p1"])
    assert row["stock_quantity"] == 7


def test_snapshot_timestamps_come_back_as_the_same_instants(store):
    land(store.lake_root, 1, "product", [product(1)])
    raw = reader.by_keys(store, "products", ["p1"])
    publish_stand_in(store.lake_root, store.var_dir)
    assert resolve(store, family(PRODUCTS))["products"].kind == "snapshot"
    assert reader.by_keys(store, "products", ["p1"]) == raw


def test_only_the_tenants_own_files_are_named(store, monkeypatch):
    for tenant in (1, 2):
        land(store.lake_root, tenant, "product", [product(1)], key=f"t{tenant}")
        land(store.lake_root, tenant, "order", [order(1)], key=f"o{tenant}")
    publish_stand_in(store.lake_root, store.var_dir)
    land(store.lake_root, 2, "product", [product(2)], key="t2-late")
    seen: list[dict] = []
    real_run = reader.run
    monkeypatch.setattr(
        reader, "run", lambda sql, params: seen.append(params) or real_run(sql, params)
    )
    other = Store(store.lake_root, store.var_dir, 2)
    assert [r["id"] for r in reader.select(other, "order_items", lambda q: "select * from orders")]
    assert ids(other) == ["p1", "p2"]
    paths = [p for params in seen for v in params.values() if isinstance(v, list) for p in v]
    assert paths and all("/tenant_id=2/" in p for p in paths)


def test_versions_lists_every_landed_version_oldest_first(store):
    land(store.lake_root, 1, "order", [order(1, status="pending")])
    land(store.lake_root, 1, "order", [order(1, status="paid")])
    versions = reader.versions(store, "orders", "o1", ["status"])
    assert [v["status"] for v in versions] == ["pending", "paid"]
    assert versions[0]["_ingested_at"] <= versions[1]["_ingested_at"]


def test_every_spec_column_exists_in_the_lake_schema():
    for spec in SPECS.values():
        assert spec.columns and spec.key


def test_reads_stay_whole_while_compaction_rewrites_files(store):
    expected: dict[str, str] = {}
    for round_ in range(4):
        batch = [product(i) for i in range(round_ * 5, round_ * 5 + 5)]
        for record in batch:
            land(store.lake_root, 1, "product", [record])
            expected[record["id"]] = record["name"]
        done = threading.Event()

        def compaction(finished: threading.Event = done) -> None:
            compact(store.lake_root, min_files=2)
            finished.set()

        compactor = threading.Thread(target=compaction)
        compactor.start()
        while not done.is_set():
            assert names(store) == expected
        compactor.join()
        assert names(store) == expected


def test_current_state_is_refreshed_only_for_families_the_snapshot_cannot_serve(store):
    assert current_state_entities(store.var_dir) == list(SPECS)  # nothing published yet
    land(store.lake_root, 1, "product", [product(1)])
    land(store.lake_root, 1, "order", [order(1, lines=2)])
    publish_stand_in(store.lake_root, store.var_dir)
    # No customers nor refunds were landed, so neither mart exists; notes have no mart at all.
    assert current_state_entities(store.var_dir) == ["customers", "refunds", "customer_notes"]
    publish_stand_in(store.lake_root, store.var_dir, drop={"fct_orders": ["status"]})
    # A parent the snapshot lacks a field of takes its children along: they share one base.
    assert current_state_entities(store.var_dir) == [
        "customers",
        "orders",
        "order_items",
        "refunds",
        "customer_notes",
    ]
