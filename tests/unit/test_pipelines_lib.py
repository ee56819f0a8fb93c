"""The pipelines' pure helpers: build state, settings round trip, mart keys, source mapping."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipelines.lib.buildstate import (
    BUILDING,
    BUILT,
    BuildState,
    NotBuilt,
    built_state,
    read_state,
    write_state,
)
from pipelines.lib.dbt import dbt_environ, mart_key, published_marts
from pipelines.lib.resources import ShoplakeResource, settings_environ
from pipelines.lib.translator import CONTROL_TENANTS, RAW_ZONE, ShoplakeTranslator, layer_of
from warehouse.config import load_settings

WATERMARK = datetime(2026, 10, 31, 12, 0, 0, 123456, tzinfo=UTC)


def test_build_state_round_trip_and_publish_gate(tmp_path):
    assert read_state(tmp_path) is None
    with pytest.raises(NotBuilt, match="none"):
        built_state(tmp_path)
    write_state(tmp_path, BUILDING, "run-1", False, WATERMARK)
    with pytest.raises(NotBuilt, match="building"):  # dbt started and did not finish
        built_state(tmp_path)
    write_state(tmp_path, BUILT, "run-1", True, WATERMARK, None, "run-0", "inv-1")
    state = built_state(tmp_path)
    assert (state.run_id, state.full_refresh, state.watermark) == ("run-1", True, WATERMARK)
    assert (state.previous_run_id, state.dbt_invocation_id) == ("run-0", "inv-1")


def test_settings_survive_the_trip_through_resource_config(tmp_path):
    settings = load_settings(
        {
            "var_dir": tmp_path / "v",
            "cors_origins": ("https://a.example", "https://b.example"),
            "trust_proxy": True,
            "snapshots_keep": 5,
            "env": "test",
        },
        environ={},
    )
    environ = settings_environ(settings)
    assert all(isinstance(v, str) for v in environ.values())
    assert "SHOPLAKE_LAKE_DIR" not in environ  # None stays unset, so the default applies
    again = ShoplakeResource(environ=environ).settings()
    assert again.values == {**settings.values, "var_dir": (tmp_path / "v").resolve()}


def test_dbt_gets_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = dbt_environ(load_settings({"var_dir": Path("var")}, environ={}))
    assert env["SHOPLAKE_WAREHOUSE_PATH"] == str(tmp_path / "var/warehouse/build.duckdb")
    assert env["SHOPLAKE_LAKE_DIR"] == str(tmp_path / "var/lake")
    assert env["SHOPLAKE_TENANTS_FILE"] == str(tmp_path / "var/warehouse/control/tenants.parquet")


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"meta": {"key": ["tenant_id", "day"]}, "unique_key": "x"}, ("tenant_id", "day")),
        ({"unique_key": ["tenant_id", "order_id"]}, ("tenant_id", "order_id")),
        ({"unique_key": "order_id"}, ("order_id",)),
        ({"unique_key": "tenant_id || '-' || order_id"}, ()),  # an expression: no key
        ({}, ()),
    ],
)
def test_mart_key(config, key):
    assert mart_key(config) == key


def model(name: str, fqn: list[str], publish: bool, schema: str = "marts") -> dict:
    meta = {"publish": True} if publish else {}
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "schema": schema,
        "fqn": fqn,
        "config": {"meta": meta, "unique_key": ["tenant_id"]},
    }


def test_published_marts_are_the_models_marked_publish():
    manifest = {
        "nodes": {
            "model.a": model("mart_b", ["shoplake", "marts", "mart_b"], True),
            "model.b": model("fct_a", ["shoplake", "marts", "core", "fct_a"], True),
            "model.c": model("stg_x", ["shoplake", "staging", "stg_x"], False, "staging"),
            "test.d": {"resource_type": "test", "config": {"meta": {"publish": True}}},
        }
    }
    specs = published_marts(manifest)
    assert [(s.name, s.relation, s.key) for s in specs] == [
        ("fct_a", '"marts"."fct_a"', ("tenant_id",)),
        ("mart_b", '"marts"."mart_b"', ("tenant_id",)),
    ]


@pytest.mark.parametrize(
    ("props", "key"),
    [
        ({"resource_type": "source", "source_name": "shop_raw", "name": "orders"}, RAW_ZONE),
        ({"resource_type": "source", "source_name": "shop_raw", "name": "refunds"}, RAW_ZONE),
        ({"resource_type": "source", "source_name": "control", "name": "tenants"}, CONTROL_TENANTS),
        (
            {"resource_type": "source", "source_name": "other", "name": "t"},
            dg.AssetKey(["other", "t"]),
        ),
        ({"resource_type": "model", "name": "fct_orders"}, dg.AssetKey("fct_orders")),
    ],
)
def test_translator_keys(props, key):
    assert ShoplakeTranslator().get_asset_key(props) == key


def test_models_are_grouped_by_layer():
    assert layer_of({"fqn": ["shoplake", "marts", "core", "fct_orders"]}) == "marts"
    assert layer_of({"fqn": ["shoplake", "staging", "shop", "base", "b"]}) == "staging"
    assert layer_of({"fqn": ["shoplake", "seeds", "x"]}) == "dbt"


def test_dbt_build_args_stay_the_same_and_the_watermark_travels_as_an_env_var():
    from pipelines.lib.buildplan import dbt_plan

    # Equal arguments build after build keep dbt's partial parsing (changed --vars re-parse all).
    first, second = (dbt_plan(False, False, {}, None, WATERMARK + timedelta(minutes=m))
                     for m in (0, 5))  # fmt: skip
    assert first.args == second.args == ["build"]
    assert first.environ["SHOPLAKE_RAW_WATERMARK"] == "2026-10-31T12:00:00.123456+00:00"
    full = dbt_plan(True, False, {"as_of_date": "2026-11-01"}, None, None)
    assert full.args == ["build", "--vars", '{"as_of_date": "2026-11-01"}', "--full-refresh"]


@pytest.mark.parametrize(
    ("full_refresh", "previous_run_id", "published_from", "trusted"),
    [
        (False, "run-1", "run-1", "inv-2"),  # the snapshot is the build this one followed
        (True, "run-1", "run-1", None),  # a full refresh rebuilt every table
        (False, None, "run-1", None),  # the build before did not complete
        (False, "run-1", "run-0", None),  # run-1's publish failed: the snapshot is older
        (False, "run-1", None, None),  # nothing published yet
    ],
)
def test_publish_trusts_change_markers_only_right_after_the_published_build(
    monkeypatch, tmp_path, full_refresh, previous_run_id, published_from, trusted
):
    from pipelines.defs.publish import assets
    from warehouse.publish import NoSnapshot, Snapshot

    def current(var_dir):
        if published_from is None:
            raise NoSnapshot("none")
        return Snapshot("b", tmp_path, {"build": {"dbt_run_id": published_from}})

    monkeypatch.setattr(assets, "current_snapshot", current)
    state = BuildState(
        BUILT, "run-2", full_refresh, WATERMARK, WATERMARK, None, previous_run_id, "inv-2"
    )
    assert assets.trusted_invocation(state, tmp_path) == trusted
