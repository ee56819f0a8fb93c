"""The whole Dagster graph on `tiny` data: build, publish, incremental = full refresh, readers.

One module-scoped warehouse: the tiny preset is generated into a fresh lake and built from
scratch; then changes land (new orders, a changed order, a deleted order), an incremental
build runs through `shoplake build` and a full refresh through `run_build`, while a separate
process reads the published snapshot in a loop. Those three builds are shared by the tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from ingestion.generator import generate, tenant_definitions
from pipelines.build import BuildFailed, BuildResult, run_build
from pipelines.definitions import build_definitions
from pipelines.defs.build.jobs import BUILD_JOB
from pipelines.defs.build.sensors import raw_data_sensor
from pipelines.lib.buildstate import read_state
from pipelines.lib.dbt import dbt_project, target_dir
from pipelines.lib.lock import build_lock
from pipelines.lib.rawzone import raw_watermark
from pipelines.lib.rereads import tail_start
from pipelines.lib.resources import ShoplakeResource, settings_environ
from pipelines.lib.translator import DBT_TESTS
from shoplake.commands.build import build as build_command
from tests.integration.test_publish_concurrency import start_reader, stop_reader
from warehouse.config import Settings, load_settings
from warehouse.contracts import validate_records
from warehouse.controldb import make_engine, make_session_factory, transaction
from warehouse.controldb.models import Base
from warehouse.controlplane import tenants as tenant_service
from warehouse.lake.writer import batch_id_for, land_batch
from warehouse.publish import current_snapshot, mart_glob

pytestmark = pytest.mark.timeout(1200)


@dataclass
class Warehouse:
    settings: Settings
    tenant_ids: dict[str, int]
    first: BuildResult
    records: Path  # the same tiny data as NDJSON records, to change and land again
    # In memory: the event log of ~250 dbt events per build is much faster there than in SQLite.
    instance: dg.DagsterInstance


def digests(snapshot_path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(snapshot_path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(snapshot_path.rglob("*.parquet"))
    }


def rows(glob: str, where: str = "true") -> list[tuple]:
    return duckdb.sql(f"select * from read_parquet('{glob}') where {where}").fetchall()


@pytest.fixture(scope="module")
def control_url(controldb_template, tmp_path_factory):
    """A control DB for this module: a copy of the SQLite template, or the PostgreSQL schema."""
    if not controldb_template.startswith("postgresql"):
        target = tmp_path_factory.mktemp("control") / "control.db"
        shutil.copy(controldb_template, target)
        yield f"sqlite:///{target}"
        return
    yield controldb_template
    engine = create_engine(controldb_template)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"truncate {tables} restart identity cascade"))
    engine.dispose()


@pytest.fixture(scope="module")
def warehouse(control_url, tmp_path_factory) -> Iterator[Warehouse]:
    root = tmp_path_factory.mktemp("warehouse")
    settings = load_settings(
        {
            "env": "test",
            "secret_key": "test-secret-key-at-least-32-bytes-long",
            "var_dir": root / "var",
            "database_url": control_url,
            "build_lock_wait_seconds": 1,
        },
        environ={},
    )
    engine = make_engine(settings.control_db_url)
    ids = {}
    with transaction(make_session_factory(engine), write=True) as session:
        for tenant in tenant_definitions("tiny"):
            ids[tenant.slug] = tenant_service.create_tenant(session, **tenant.control_fields()).id
    engine.dispose()
    generate("tiny", settings.lake_root, fmt="parquet", tenant_ids=ids, progress=False)
    generate("tiny", root / "records", fmt="ndjson", progress=False)
    # Disposed at the end: an ephemeral instance left to the garbage collector warns.
    with dg.DagsterInstance.ephemeral() as instance:
        first = run_build(settings, full_refresh=True, instance=instance)
        yield Warehouse(settings, ids, first, root / "records", instance)


def land_orders(warehouse: Warehouse, slug: str, records: list[dict], key: str) -> None:
    tables, errors = validate_records("order", [json.dumps(r).encode() for r in records])
    assert not errors
    tenant_id = warehouse.tenant_ids[slug]
    land_batch(
        warehouse.settings.lake_root,
        tenant_id,
        batch_id_for(tenant_id, key, 0),
        tables,
        source="api",
    )


def land_changes(warehouse: Warehouse) -> dict:
    """New orders, one order changed and one deleted, in the first tenant; what to expect."""
    slug = next(iter(warehouse.tenant_ids))
    lines = (warehouse.records / slug / "orders.ndjson").read_text().splitlines()
    orders = [json.loads(line) for line in lines]
    new = [dict(o, id="new-" + o["id"], order_number="N" + o["order_number"]) for o in orders[:25]]
    land_orders(warehouse, slug, new, "test-new-orders")
    changed = dict(orders[30], status="cancelled", updated_at="2026-11-01T10:00:00Z")
    land_orders(warehouse, slug, [changed], "test-changed-order")
    deleted = orders[31]["id"]
    tenant_id = warehouse.tenant_ids[slug]
    land_batch(
        warehouse.settings.lake_root,
        tenant_id,
        batch_id_for(tenant_id, "test-delete", 0),
        {"orders": __import__("pyarrow").table({"id": [deleted]})},
        source="crud",
        op="delete",
    )
    return {"tenant_id": tenant_id, "new": len(new), "changed": changed["id"], "deleted": deleted}


@pytest.fixture(scope="module")
def rebuilt(warehouse, tmp_path_factory):
    """Land changes, then build incrementally (CLI) and from scratch while a reader reads."""
    expected = land_changes(warehouse)
    reader_dir = tmp_path_factory.mktemp("reader")
    process, stop, out = start_reader(warehouse.settings.var_dir, reader_dir, pause=0.1)
    try:
        time.sleep(1.0)  # let the reader get going on the first snapshot
        cli = CliRunner().invoke(build_command, ["--json"], obj=warehouse.settings)
        assert cli.exit_code == 0, cli.output
        incremental = current_snapshot(warehouse.settings.var_dir)
        scoped = dbt_nodes(warehouse.settings)
        scoped_sql = compiled_tests(warehouse.settings)
        full = run_build(warehouse.settings, full_refresh=True, instance=warehouse.instance)
    finally:
        reader = stop_reader(process, stop, out)
    summary = json.loads(cli.output.strip().splitlines()[-1])
    return {
        "expected": expected,
        "incremental": incremental,
        "full": full,
        "reader": reader,
        "cli": summary,
        "scoped_nodes": scoped,
        "full_nodes": dbt_nodes(warehouse.settings),
        "scoped_sql": scoped_sql,
        "full_sql": compiled_tests(warehouse.settings),
    }


def compiled_tests(settings) -> dict[str, str]:
    """Return the SQL each test of the last dbt run ran, by test name."""
    results = json.loads((target_dir(settings) / "run_results.json").read_text())["results"]
    return {
        result["unique_id"].split(".")[2]: result["compiled_code"]
        for result in results
        if result["unique_id"].startswith("test.")
    }


def dbt_nodes(settings) -> dict[str, list[str]]:
    """Return the unique ids of the nodes the last dbt run ran, by resource type."""
    results = json.loads((target_dir(settings) / "run_results.json").read_text())["results"]
    nodes: dict[str, list[str]] = {}
    for result in results:
        nodes.setdefault(result["unique_id"].split(".")[0], []).append(result["unique_id"])
    return nodes


def test_full_build_publishes_every_mart_for_every_tenant(warehouse):
    snapshot = warehouse.first.snapshot
    assert snapshot.build_id == current_snapshot(warehouse.settings.var_dir).build_id
    assert len(snapshot.marts) >= 16
    for tenant_id in warehouse.tenant_ids.values():
        assert snapshot.rows("fct_orders", tenant_id) == 300
        assert snapshot.rows("mart_sales_daily", tenant_id) > 0
        glob = mart_glob(snapshot, "fct_orders", tenant_id)
        assert {r[0] for r in rows(glob)} == {tenant_id}
    assert snapshot.manifest["build"]["full_refresh"] is True


def test_marts_split_by_period_as_their_models_declare(warehouse):
    snapshot = warehouse.first.snapshot
    tenant_id = next(iter(warehouse.tenant_ids.values()))
    files = {
        mart: sorted(p.name for p in (snapshot.path / mart / f"tenant_id={tenant_id}").iterdir())
        for mart in ("fct_orders", "mart_price_history", "dim_products")
    }
    # `tiny` holds 180 days up to 2026-10-31: one year, several months, the newest apart.
    assert files["fct_orders"] == ["part-2026-10.parquet", "part-2026.parquet"]
    assert len(files["mart_price_history"]) >= 6
    assert all(re.fullmatch(r"part-2026-\d\d\.parquet", n) for n in files["mart_price_history"])
    assert files["dim_products"] == ["part-00000.parquet"]
    entry = snapshot.manifest["marts"]["fct_order_items"]
    assert (entry["period_column"], entry["period"]) == ("order_created_at", "year")


def test_watermark_is_the_newest_raw_row_the_build_read(warehouse):
    state = read_state(warehouse.settings.warehouse_file.parent)
    assert warehouse.first.snapshot.watermark == state.watermark
    assert state.watermark is not None
    # Readers add raw rows from where the build says some may be missing (nothing pending here).
    assert warehouse.first.snapshot.tail_from == tail_start(state) < state.watermark


def test_every_check_passed_including_dbt_tests_and_row_counts(warehouse):
    assert warehouse.first.checks_failed == []
    records = warehouse.instance.get_records_for_run(
        warehouse.first.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [r.event_log_entry.dagster_event.asset_check_evaluation_data for r in records]
    assert {"fact_rows_match_raw", "snapshot_is_fresh"} <= {e.check_name for e in evaluations}
    # dbt's tests are checks too: one per model, each naming the tests that ran in it.
    dbt_checks = [e for e in evaluations if e.check_name == DBT_TESTS]
    assert len(dbt_checks) == warehouse.first.checks_passed - 2 > 25
    assert sum(e.metadata["tests_run"].value for e in dbt_checks) > 150
    # No test's result reached the event log on its own (as an observation and a log line).
    observed = warehouse.instance.get_records_for_run(
        warehouse.first.run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION
    ).records
    assert observed == []


def test_incremental_build_saw_new_changed_and_deleted_orders(warehouse, rebuilt):
    exp, snapshot = rebuilt["expected"], rebuilt["incremental"]
    assert snapshot.manifest["build"]["full_refresh"] is False
    assert rebuilt["cli"]["build_id"] == snapshot.build_id and not rebuilt["cli"]["checks_failed"]
    tenant_id = exp["tenant_id"]
    assert snapshot.rows("fct_orders", tenant_id) == 300 + exp["new"] - 1
    glob = mart_glob(snapshot, "fct_orders", tenant_id)
    assert rows(glob, f"order_id = '{exp['deleted']}'") == []
    status = duckdb.sql(
        f"select status from read_parquet('{glob}') where order_id = '{exp['changed']}'"
    ).fetchall()
    assert status == [("cancelled",)]
    assert snapshot.watermark > warehouse.first.snapshot.watermark
    # Right after the published build, marts this build's dbt run did not change are linked
    # on their change marker's word; the orders are read and rewritten where their change log
    # says they changed.
    marts = snapshot.manifest["marts"]
    assert marts["mart_price_history"]["unread"] and marts["dim_products"]["unread"]
    assert not marts["fct_orders"]["unread"] and marts["fct_orders"]["from_change_log"]
    assert (
        marts["fct_order_items"]["from_change_log"] and marts["mart_sales_daily"]["from_change_log"]
    )
    assert all(not entry["unread"] for entry in rebuilt["full"].snapshot.manifest["marts"].values())
    assert snapshot.watermark == raw_watermark(warehouse.settings.lake_root)


def test_incremental_equals_full_refresh_byte_for_byte(rebuilt):
    incremental, full = rebuilt["incremental"], rebuilt["full"].snapshot
    assert incremental.build_id != full.build_id

    # The same entries (rows, schemas, fingerprints), whether a mart was read or linked unread.
    def entries(snapshot) -> dict:
        marts = snapshot.manifest["marts"]
        how = ("unread", "from_change_log")
        return {name: {k: v for k, v in e.items() if k not in how} for name, e in marts.items()}

    assert entries(incremental) == entries(full)
    assert digests(incremental.path) == digests(full.path)
    # Unchanged tenants' files were linked, not written; the full refresh wrote every file.
    assert incremental.manifest["reused_files"] > 0
    assert full.manifest["reused_files"] == 0


def test_an_incremental_build_tests_what_it_wrote_and_a_full_refresh_everything(rebuilt):
    manifest = json.loads(dbt_project().manifest_path.read_text())
    whole_table = {
        uid for uid, node in manifest["nodes"].items() if "whole_table" in node.get("tags", [])
    }
    scoped, full = rebuilt["scoped_nodes"], rebuilt["full_nodes"]
    assert "unit_test" not in scoped and len(full["unit_test"]) >= 3
    assert whole_table and not whole_table & set(scoped["test"])
    assert whole_table <= set(full["test"])
    assert len(scoped["model"]) == len(full["model"])


def test_an_incremental_build_tests_the_keys_its_runs_changed(warehouse, rebuilt, tmp_path):
    scoped, full = rebuilt["scoped_sql"], rebuilt["full_sql"]
    (unique,) = [n for n in scoped if n.startswith("unique_combination_of_columns_int_orders__")]
    assert "int_orders__localized__changes" in scoped[unique]
    assert "__changes" not in full[unique]
    (by_batch,) = [n for n in scoped if n.startswith("unique_combination_of_columns_fct_orders_")]
    assert "_ingested_at > cast(" in scoped[by_batch] and "_ingested_at" not in full[by_batch]
    # Run the scoped test on a copy of the warehouse: a duplicate of an order the incremental
    # run changed fails it; one of an order it did not change is left to the next whole run.
    copy = tmp_path / warehouse.settings.warehouse_file.name
    shutil.copy(warehouse.settings.warehouse_file, copy)
    with duckdb.connect(str(copy)) as con:
        assert con.execute(scoped[unique]).fetchall() == []
        con.execute(
            "insert into intermediate.int_orders__localized select * from "
            "intermediate.int_orders__localized where order_id not in "
            "(select order_id from intermediate.int_orders__localized__changes) limit 1"
        )
        assert con.execute(scoped[unique]).fetchall() == []
        assert con.execute(full[unique]).fetchall() != []
        con.execute(
            "insert into intermediate.int_orders__localized select * from "
            "intermediate.int_orders__localized where order_id = $1",
            [rebuilt["expected"]["changed"]],
        )
        assert len(con.execute(scoped[unique]).fetchall()) == 1


def test_reader_saw_only_complete_snapshots_during_builds(warehouse, rebuilt):
    reader = rebuilt["reader"]
    assert reader["errors"] == []
    assert reader["iterations"] > 5
    seen = set(reader["builds"])
    assert warehouse.first.snapshot.build_id in seen
    assert len(seen) >= 2  # it moved to a new snapshot while running


def test_subset_dbt_run_is_not_published(warehouse, rebuilt):
    settings = warehouse.settings
    before = current_snapshot(settings.var_dir).build_id
    job = build_definitions(settings).resolve_job_def(BUILD_JOB)
    instance = warehouse.instance
    subset = job.execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey("stg_control__tenants")]
    )
    assert subset.success
    assert read_state(settings.warehouse_file.parent).status == "partial"
    publish = job.execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey("marts_snapshot")]
    )
    assert not publish.success
    assert current_snapshot(settings.var_dir).build_id == before


def test_a_second_build_waits_for_the_lock_then_fails(warehouse):
    settings = warehouse.settings
    holding = build_lock(settings.warehouse_file.parent, 0, owner="test holder")
    with holding, pytest.raises(BuildFailed, match="another warehouse build"):
        run_build(settings, instance=warehouse.instance)


def sensor_result(warehouse: Warehouse, cursor: str | None = None):
    resources = {"shoplake": ShoplakeResource(environ=settings_environ(warehouse.settings))}
    context = dg.build_sensor_context(
        instance=warehouse.instance, cursor=cursor, resources=resources
    )
    return raw_data_sensor(context), context


def test_sensor_requests_a_build_only_for_new_raw_data(warehouse, rebuilt):
    result, _ = sensor_result(warehouse)
    assert isinstance(result, dg.SkipReason) and "no raw data newer" in result.skip_message
    slug = next(iter(warehouse.tenant_ids))
    record = json.loads((warehouse.records / slug / "orders.ndjson").read_text().splitlines()[0])
    land_orders(warehouse, slug, [dict(record, id="sensor-1", order_number="S1")], "test-sensor")
    result, context = sensor_result(warehouse)
    assert isinstance(result, dg.RunRequest)
    debounced, _ = sensor_result(warehouse, cursor=context.cursor)
    assert isinstance(debounced, dg.SkipReason) and "debounced" in debounced.skip_message


def test_a_failing_dbt_test_fails_the_build_and_its_models_check(warehouse, tmp_path):
    # On a copy of the warehouse: an order row that skipped validation, with no total.
    var_dir = tmp_path / "var"
    shutil.copytree(warehouse.settings.var_dir, var_dir)
    settings = warehouse.settings.replace(var_dir=var_dir)
    before = current_snapshot(var_dir).build_id
    slug = next(iter(warehouse.tenant_ids))
    record = json.loads((warehouse.records / slug / "orders.ndjson").read_text().splitlines()[0])
    tables, errors = validate_records("order", [json.dumps(dict(record, id="no-total")).encode()])
    assert not errors
    orders = tables["orders"]
    tables["orders"] = orders.set_column(
        orders.schema.get_field_index("total_minor"),
        "total_minor",
        __import__("pyarrow").nulls(1, orders.schema.field("total_minor").type),
    )
    tenant_id = warehouse.tenant_ids[slug]
    land_batch(
        settings.lake_root, tenant_id, batch_id_for(tenant_id, "no-total", 0), tables, source="api"
    )
    with pytest.raises(BuildFailed, match="dbt"):
        run_build(settings, instance=warehouse.instance)
    assert current_snapshot(var_dir).build_id == before
    run = warehouse.instance.get_runs(limit=1)[0]
    records = warehouse.instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = {
        e.asset_key.to_user_string(): e
        for e in (r.event_log_entry.dagster_event.asset_check_evaluation_data for r in records)
        if not e.passed
    }
    # Its payment fails too: an order's own payment carries the order's total.
    assert set(failed) == {"stg_shop__orders", "fct_payments"}
    assert all(e.severity == dg.AssetCheckSeverity.ERROR for e in failed.values())
    failures = failed["stg_shop__orders"].metadata["failures"].value
    assert failures == {
        "not_null_stg_shop__orders_total_minor": {
            "status": "fail",
            "failing_rows": 1,
            "message": "Got 1 result, configured to fail if != 0",
        }
    }
