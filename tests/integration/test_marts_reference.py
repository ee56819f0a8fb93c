"""The dbt marts agree with an independent reference, and incremental builds equal full ones.

One session builds the marts for real on the `tiny` preset (three tenants: Berlin/EUR,
Los Angeles/USD, Tokyo/JPY), see marts_reference/build.py: a first `dbt run` while no refund has
landed yet, a second wave of raw data (updates, deletes, refunds, retried batches), an
incremental `dbt build` with every data and unit test, a third wave (an order refunded days
later deleted) and another incremental build, and a `--full-refresh` build into a fresh
database. Every mart of the incremental build must equal the reference computed with polars
(marts_reference/), to the cent and row for row, and equal the full refresh.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.integration.marts_reference import raw
from tests.integration.marts_reference.build import (
    AS_OF,
    BOUNDED_FACTS,
    CHANGE_LOG_READERS,
    DEFAULT_CHANGES,
    NEXT_DAY,
    paths,
)
from tests.integration.marts_reference.compare import differences
from tests.integration.marts_reference.marts import KEYS, reference_marts

REPO = Path(__file__).resolve().parents[2]
# Every incremental model and its key; marts are compared with the reference as well.
INCREMENTAL = (
    {f"marts.{mart}": key for mart, key in KEYS.items()}
    | CHANGE_LOG_READERS
    | {
        "staging.stg_shop__events": ["tenant_id", "event_id"],
        "staging.stg_shop__stock_events": ["tenant_id", "stock_event_id"],
        "staging.stg_shop__price_events": ["tenant_id", "price_event_id"],
    }
)

pytestmark = pytest.mark.timeout(600)


@dataclass
class Build:
    """What the session built: the lake, the two build databases and what the changes did."""

    lake: Path
    tenants_file: Path
    incremental_db: Path
    full_db: Path
    incremental_target: Path
    bounded_db: Path
    fallback_db: Path
    next_day_db: Path
    new_default_db: Path
    before_changes: datetime
    first_run_refunds: int
    touched: dict[str, dict[str, str]]
    first_sold_units: dict[str, dict]  # after the second wave's build
    default_minimum: str  # a product of DEFAULT_CHANGES on the tenant's low-stock default


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Generate, build, change, build incrementally, and build again with --full-refresh."""
    root = tmp_path_factory.mktemp("marts")
    module = "tests.integration.marts_reference.build"
    done = subprocess.run([sys.executable, "-m", module, str(root)], cwd=REPO,
                          capture_output=True, text=True, timeout=540)  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    p = paths(root)
    summary = json.loads(p["summary"].read_text())
    return Build(
        p["lake"], p["incremental_db"].parent / "control" / "tenants.parquet",
        p["incremental_db"], p["full_db"], p["incremental_target"], p["bounded_db"],
        p["fallback_db"], p["next_day_db"], p["new_default_db"],
        datetime.fromisoformat(summary["before_changes"]), summary["first_run_refunds"],
        summary["touched"], summary["first_sold_units"], summary["default_minimum"],
    )  # fmt: skip


@pytest.fixture(scope="session")
def reference(build: Build) -> dict[str, pl.DataFrame]:
    """Every mart computed independently from the final lake."""
    return reference_marts(build.lake, build.tenants_file, AS_OF)


def read(db: Path, relation: str) -> pl.DataFrame:
    """Return a table of a build database (a mart unless the schema is named)."""
    name = relation if "." in relation else f"marts.{relation}"
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(f"select * from {name}").pl()


@pytest.mark.parametrize("mart", list(KEYS))
def test_mart_matches_the_reference(build: Build, reference: dict, mart: str) -> None:
    actual = read(build.incremental_db, mart)
    problems = differences(actual, reference[mart], KEYS[mart])
    assert not problems, "\n".join(problems)
    assert actual.height > 0


@pytest.mark.parametrize("relation", list(INCREMENTAL))
def test_incremental_build_equals_full_refresh(build: Build, relation: str) -> None:
    incremental, full = read(build.incremental_db, relation), read(build.full_db, relation)
    assert incremental.schema == full.schema
    assert not differences(incremental, full, INCREMENTAL[relation])


def test_keys_recomputed_unchanged_are_left_out_of_the_change_log(build: Build) -> None:
    # The third wave deleted an order of a customer with other orders: the build recomputed
    # every order of that customer, and only the deleted one changed. A change log holds a
    # key's replaced and inserted rows; an unchanged key would show as two equal rows.
    relation = "intermediate.int_orders__localized"
    log = read(build.incremental_db, f"{relation}__changes")
    marker = read(build.incremental_db, f"{relation}__changed")
    keys = CHANGE_LOG_READERS[relation]
    per_key = log.group_by(keys).agg(
        pl.len().alias("rows"), pl.struct(pl.all()).n_unique().alias("distinct_rows")
    )
    assert per_key.height > 0
    assert per_key.filter((pl.col("rows") == 2) & (pl.col("distinct_rows") == 1)).is_empty()
    assert marker.get_column("changed_keys").to_list() == [per_key.height]
    deleted = {(int(tenant), touched["deleted_late_refunded_order"])
               for tenant, touched in build.touched.items()}  # fmt: skip
    assert deleted <= set(per_key.select(keys).iter_rows())


@pytest.mark.parametrize("relation", list(CHANGE_LOG_READERS))
def test_recomputing_without_change_logs_ends_where_full_refresh_does(build: Build, relation):
    fallback, full = read(build.fallback_db, relation), read(build.full_db, relation)
    assert not differences(fallback, full, CHANGE_LOG_READERS[relation])


def test_stock_levels_follow_a_new_low_stock_default(build: Build) -> None:
    # Nothing landed and no day passed: the tenant's new default alone moved its minimums.
    tenants_file = build.new_default_db.parent / "control" / "tenants.parquet"
    expected = reference_marts(build.lake, tenants_file, AS_OF)["mart_stock_levels"]
    actual = read(build.new_default_db, "mart_stock_levels")
    problems = differences(actual, expected, KEYS["mart_stock_levels"])
    assert not problems, "\n".join(problems)
    product = (pl.col("tenant_id") == DEFAULT_CHANGES) & (
        pl.col("product_id") == build.default_minimum
    )
    moved = actual.filter(product)
    assert moved.height > 0
    assert moved.get_column("uses_default_min_level").to_list() == [True] * moved.height
    assert set(moved.get_column("min_stock_level")) == {7}


@pytest.mark.parametrize(
    ("mart", "moved_column"),
    [
        # Every SKU's velocity window slid a day.
        ("mart_stock_levels", "units_sold_30d"),
        # Every customer's day counts and flags moved.
        ("mart_customer_lifetime", "days_since_last_order"),
    ],
)
def test_the_first_build_of_a_day_recomputes_with_nothing_new(
    build: Build, mart: str, moved_column: str
) -> None:
    expected = reference_marts(build.lake, build.tenants_file, NEXT_DAY)[mart]
    actual = read(build.next_day_db, mart)
    problems = differences(actual, expected, KEYS[mart])
    assert not problems, "\n".join(problems)
    before = read(build.incremental_db, mart)
    moved = actual.join(before, on=KEYS[mart], nulls_equal=True).filter(
        pl.col(moved_column) != pl.col(f"{moved_column}_right")
    )
    assert moved.height > 0


def test_tenants_keep_their_own_zone_currency_and_rows(build: Build) -> None:
    daily = read(build.incremental_db, "mart_sales_daily")
    currencies = dict(daily.select("tenant_id", "currency").unique().iter_rows())
    assert currencies == {11: "EUR", 22: "USD", 33: "JPY"}
    # Merchant ids repeat across tenants: only tenant-scoped joins keep the marts apart.
    orders = read(build.incremental_db, "fct_orders")
    shared = orders.group_by("order_id").agg(pl.col("tenant_id").n_unique().alias("tenants"))
    assert shared.filter(pl.col("tenants") == 3).height > 100


def test_first_build_ran_before_any_refund_landed(build: Build) -> None:
    assert build.first_run_refunds == 0
    assert read(build.incremental_db, "fct_refunds").height > 0


def test_incremental_run_read_only_batches_after_the_watermark(build: Build) -> None:
    compiled = build.incremental_target / "compiled/shoplake/models/marts/core/fct_orders.sql"
    sql = compiled.read_text()
    assert "_ingested_date >= cast(" in sql
    assert "_ingested_at_tz > cast(" in sql


@pytest.mark.parametrize("fact", BOUNDED_FACTS)
def test_raw_watermark_bounds_what_a_build_sees(build: Build, tmp_path: Path, fact: str) -> None:
    earlier = raw.lake_as_of(build.lake, tmp_path / "lake", build.before_changes)
    expected = reference_marts(earlier, build.tenants_file, AS_OF)[fact]
    bounded = read(build.bounded_db, fact)
    problems = differences(bounded, expected, KEYS[fact])
    assert not problems, "\n".join(problems)
    assert differences(bounded, read(build.incremental_db, fact), KEYS[fact])  # changes unseen


def test_updates_deletes_and_retries_are_applied(build: Build) -> None:
    orders = read(build.incremental_db, "fct_orders")
    lines = read(build.incremental_db, "fct_order_items")
    for tenant, touched in build.touched.items():
        mine = orders.filter(pl.col("tenant_id") == int(tenant))
        my_lines = lines.filter(pl.col("tenant_id") == int(tenant))
        gone = [touched[role] for role in ("deleted_order", "deleted_refunded_order",
                                           "deleted_late_refunded_order",
                                           "first_sale_order")]  # fmt: skip
        assert mine.filter(pl.col("order_id").is_in(gone)).is_empty()
        assert my_lines.filter(pl.col("order_id").is_in(gone)).is_empty()
        updated = mine.filter(pl.col("order_id") == touched["updated_order"]).row(0, named=True)
        assert updated["status"] == "partially_refunded"
        updated_lines = my_lines.filter(pl.col("order_id") == touched["updated_order"])
        assert updated_lines.get_column("line_net_minor").sum() == updated["subtotal_minor"]
        new = mine.filter(pl.col("order_id") == touched["new_order"])
        assert new.get_column("status").to_list() == ["paid"]  # sent twice, retried once
        new_lines = my_lines.filter(pl.col("order_id") == touched["new_order"])
        assert new_lines.get_column("line_number").sort().to_list() == list(
            range(1, new_lines.height + 1)
        )


def test_a_product_whose_only_sale_is_deleted_has_none_left(build: Build) -> None:
    # The second wave's build counted its first sale (2 units, days before the as-of day);
    # the third deleted that order.
    assert all(units == {"sold": 2, "recent": 2} for units in build.first_sold_units.values())
    sales = read(build.incremental_db, "intermediate.int_product_sales")
    performance = read(build.incremental_db, "mart_product_performance")
    for tenant, touched in build.touched.items():
        product = (pl.col("tenant_id") == int(tenant)) & (
            pl.col("product_id") == touched["first_sold_product"]
        )
        assert sales.filter(product).is_empty()
        row = performance.filter(product).row(0, named=True)
        assert (row["units_sold"], row["order_count"], row["last_sold_at"]) == (0, 0, None)
    levels = read(build.incremental_db, "mart_stock_levels")
    for tenant, touched in build.touched.items():
        sku = (pl.col("tenant_id") == int(tenant)) & (
            pl.col("product_id") == touched["first_sold_product"]
        )
        assert levels.filter(sku).get_column("units_sold_30d").to_list() == [0]
