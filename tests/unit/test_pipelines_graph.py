"""Snapshot of the Dagster graph: a renamed asset, job, schedule or sensor shows up here in review.

If a change is intended, update the lists below (print them with
``uv run python -c "from pipelines.definitions import defs; ..."``).
"""

import dagster as dg
import pytest

from pipelines.definitions import build_definitions, defs
from pipelines.defs.publish.assets import MARTS, SNAPSHOT
from pipelines.lib.translator import CONTROL_TENANTS, DBT_TESTS, RAW_ZONE

ASSETS = [
    "base_shop__customer_notes",
    "base_shop__customers",
    "base_shop__events",
    "base_shop__order_items",
    "base_shop__orders",
    "base_shop__payments",
    "base_shop__price_events",
    "base_shop__products",
    "base_shop__refunds",
    "base_shop__stock_events",
    "control_tenants",
    "dim_customers",
    "dim_products",
    "fct_order_items",
    "fct_orders",
    "fct_payments",
    "fct_refunds",
    "int_customer_orders",
    "int_order_categories",
    "int_orders__localized",
    "int_product_sales",
    "int_products__unnested",
    "int_refunds__localized",
    "int_sessions__summarized",
    "int_stock_events__leveled",
    "int_stock_ledger",
    "mart_category_summary",
    "mart_customer_lifetime",
    "mart_customer_rfm",
    "mart_event_funnel",
    "mart_price_history",
    "mart_product_performance",
    "mart_sales_daily",
    "mart_sales_hourly",
    "mart_stock_levels",
    "mart_stock_movements",
    "marts_snapshot",
    "raw_zone",
    "stg_control__tenants",
    "stg_shop__customer_notes",
    "stg_shop__customers",
    "stg_shop__events",
    "stg_shop__order_items",
    "stg_shop__orders",
    "stg_shop__payments",
    "stg_shop__price_events",
    "stg_shop__products",
    "stg_shop__refunds",
    "stg_shop__stock_events",
]
PUBLISHED = [
    "dim_customers",
    "dim_products",
    "fct_order_items",
    "fct_orders",
    "fct_payments",
    "fct_refunds",
    "mart_category_summary",
    "mart_customer_lifetime",
    "mart_customer_rfm",
    "mart_event_funnel",
    "mart_price_history",
    "mart_product_performance",
    "mart_sales_daily",
    "mart_sales_hourly",
    "mart_stock_levels",
    "mart_stock_movements",
]
OWN_CHECKS = ["marts_snapshot:fact_rows_match_raw", "marts_snapshot:snapshot_is_fresh"]
JOBS = ["warehouse_build"]
SCHEDULES = {"warehouse_build_floor": "0 * * * *"}
SENSORS = ["raw_data_sensor"]


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


def test_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


def test_asset_keys(graph):
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == ASSETS


def test_published_marts():
    assert [spec.name for spec in MARTS] == PUBLISHED


def test_jobs_schedules_sensors():
    jobs = sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__"))
    assert jobs == JOBS
    assert {s.name: s.cron_schedule for s in defs.schedules} == SCHEDULES
    assert [s.name for s in defs.sensors] == SENSORS


def test_own_checks_and_one_check_of_dbt_tests_per_model(graph):
    checks = sorted(k.to_user_string() for k in graph.asset_check_keys)
    assert [c for c in checks if c.startswith("marts_snapshot:")] == OWN_CHECKS
    # Every other check gathers one model's dbt tests; every published mart has one, blocking
    # (its key is tested with error severity), and it depends on what its tests compare with.
    assert all(c.endswith(f":{DBT_TESTS}") for c in checks if not c.startswith("marts_snapshot:"))
    for mart in PUBLISHED:
        assert graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(mart), DBT_TESTS)).blocking, mart
    orders = graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey("fct_orders"), DBT_TESTS))
    assert dg.AssetKey("stg_shop__customers") in {dep.asset_key for dep in orders.additional_deps}


def test_graph_runs_inputs_then_dbt_then_publish(graph):
    snapshot_parents = {k.to_user_string() for k in graph.get(SNAPSHOT).parent_keys}
    assert snapshot_parents == set(PUBLISHED)
    # The build job is everything the snapshot needs, inputs included.
    job = defs.resolve_job_def("warehouse_build")
    assert job.asset_layer.selected_asset_keys == graph.get_all_asset_keys()
    staging = {k for k in graph.get_all_asset_keys() if k.to_user_string().startswith("base_")}
    assert all(RAW_ZONE in graph.get(k).parent_keys for k in staging)
    assert CONTROL_TENANTS in graph.get(dg.AssetKey("stg_control__tenants")).parent_keys


def test_schedule_follows_the_setting(settings):
    custom = build_definitions(settings.replace(build_schedule="*/15 * * * *"))
    assert custom.resolve_schedule_def("warehouse_build_floor").cron_schedule == "*/15 * * * *"
