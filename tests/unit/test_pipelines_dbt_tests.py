"""dbt tests as one check per model: which tests count where, and how a model's check reads."""

import dagster as dg
import pytest
from dagster_dbt import DbtCliResource

from pipelines.defs.dbt import resources as dbt_resources
from pipelines.lib.dbt_tests import dbt_test_checks
from pipelines.lib.translator import DBT_TESTS, ShoplakeTranslator

ORDERS, CUSTOMERS = "model.shoplake.orders", "model.shoplake.customers"


def _model(name: str) -> dict:
    return {
        "resource_type": "model",
        "unique_id": f"model.shoplake.{name}",
        "name": name,
        "fqn": ["shoplake", "marts", name],
        "config": {},
        "tags": [],
        "meta": {},
    }


def _test(name: str, attached: str, parents: list[str], severity: str = "error") -> dict:
    return {
        "resource_type": "test",
        "unique_id": f"test.shoplake.{name}",
        "name": name,
        "attached_node": attached,
        "depends_on": {"nodes": parents},
        "config": {"severity": severity},
    }


TESTS = {
    "test.shoplake.unique_orders": _test("unique_orders", ORDERS, [ORDERS]),
    "test.shoplake.orders_customer": _test(
        "orders_customer", ORDERS, [ORDERS, CUSTOMERS], severity="warn"
    ),
    "test.shoplake.not_null_customers": _test("not_null_customers", CUSTOMERS, [CUSTOMERS]),
}
MANIFEST = {
    "metadata": {"project_name": "shoplake"},
    "nodes": {ORDERS: _model("orders"), CUSTOMERS: _model("customers"), **TESTS},
    "sources": {},
    "parent_map": {test_id: node["depends_on"]["nodes"] for test_id, node in TESTS.items()},
}
ORDERS_CHECK = dg.AssetCheckKey(dg.AssetKey("orders"), DBT_TESTS)
CUSTOMERS_CHECK = dg.AssetCheckKey(dg.AssetKey("customers"), DBT_TESTS)


def _results(**statuses: str) -> dict:
    return {
        "results": [
            {"unique_id": f"test.shoplake.{name}", "status": status, "failures": 0}
            for name, status in statuses.items()
        ]
        + [{"unique_id": ORDERS, "status": "success"}]
    }


def _checks(run_results: dict, selected=(ORDERS_CHECK, CUSTOMERS_CHECK)) -> dict:
    results = dbt_test_checks(run_results, MANIFEST, ShoplakeTranslator(), None, selected)
    return {dg.AssetCheckKey(r.asset_key, r.check_name): r for r in results}


def test_a_model_has_one_check_for_all_its_tests():
    translator = ShoplakeTranslator()
    assert translator.tests_by_asset(MANIFEST, None) == {
        dg.AssetKey("orders"): ["test.shoplake.orders_customer", "test.shoplake.unique_orders"],
        dg.AssetKey("customers"): ["test.shoplake.not_null_customers"],
    }
    spec = dg.AssetSpec(dg.AssetKey("orders"))
    check = translator.get_asset_check_spec(spec, MANIFEST, "test.shoplake.unique_orders", None)
    assert (check.key, check.blocking) == (ORDERS_CHECK, True)
    assert {dep.asset_key for dep in check.additional_deps} == {dg.AssetKey("customers")}
    # The relationships test is the orders model's, not the customers model's.
    customers = dg.AssetSpec(dg.AssetKey("customers"))
    assert (
        translator.get_asset_check_spec(customers, MANIFEST, "test.shoplake.orders_customer", None)
        is None
    )


def test_a_model_whose_tests_all_warn_does_not_block():
    manifest = {**MANIFEST, "nodes": {**MANIFEST["nodes"]}}
    manifest["nodes"]["test.shoplake.unique_orders"] = _test(
        "unique_orders", ORDERS, [ORDERS], severity="warn"
    )
    spec = dg.AssetSpec(dg.AssetKey("orders"))
    check = ShoplakeTranslator().get_asset_check_spec(
        spec, manifest, "test.shoplake.unique_orders", None
    )
    assert check.blocking is False


def test_every_test_passing_passes_the_check():
    everything = {"unique_orders": "pass", "orders_customer": "pass", "not_null_customers": "pass"}
    checks = _checks(_results(**everything))
    assert set(checks) == {ORDERS_CHECK, CUSTOMERS_CHECK}
    orders = checks[ORDERS_CHECK]
    assert orders.passed
    assert orders.metadata["tests_run"].value == 2
    assert orders.metadata["tests"].value == ["orders_customer", "unique_orders"]
    assert orders.metadata["failures"].value == {}


@pytest.mark.parametrize(
    ("statuses", "severity"),
    [
        ({"unique_orders": "pass", "orders_customer": "warn"}, dg.AssetCheckSeverity.WARN),
        ({"unique_orders": "fail", "orders_customer": "warn"}, dg.AssetCheckSeverity.ERROR),
        ({"unique_orders": "error", "orders_customer": "pass"}, dg.AssetCheckSeverity.ERROR),
    ],
)
def test_a_failing_test_fails_its_models_check_with_its_severity(statuses, severity):
    checks = _checks(_results(**statuses))
    orders = checks[ORDERS_CHECK]
    assert (orders.passed, orders.severity) == (False, severity)
    failed = {name for name, status in statuses.items() if status != "pass"}
    assert set(orders.metadata["failures"].value) == failed
    assert orders.metadata["tests_failed"].value == len(failed)


def test_only_selected_checks_with_tests_in_the_run_get_a_result():
    checks = _checks(_results(unique_orders="pass", not_null_customers="fail"), [ORDERS_CHECK])
    assert list(checks) == [ORDERS_CHECK]
    # A model none of whose tests ran (a scoped build left them out, or dbt skipped them after
    # an upstream failure) gets no result; skipped tests are not counted as run.
    assert _checks(_results(not_null_customers="pass"), [ORDERS_CHECK]) == {}
    assert _checks(_results(unique_orders="skipped", orders_customer="skipped")) == {}
    partly = _checks(_results(unique_orders="skipped", orders_customer="pass"))[ORDERS_CHECK]
    assert partly.passed and partly.metadata["tests"].value == ["orders_customer"]


def test_the_dbt_resource_asks_no_child_process_for_its_version(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("dbt --version was run")

    # The two members the resource replaces must still exist in dagster-dbt, or it replaces nothing.
    assert {"_cli_version", "_initialize_dbt_core_adapter"} <= set(vars(DbtCliResource))
    monkeypatch.setattr("dagster_dbt.core.resource.check_output", refuse)
    resource = dbt_resources.resources()["dbt"]
    assert resource._cli_version.major == 1
    assert resource._initialize_dbt_core_adapter(["build"]) is None
