"""The control-plane export the build reads tenants from (runs on SQLite and PostgreSQL)."""

import json

import pyarrow.parquet as pq

from warehouse.controldb import make_engine, make_session_factory, transaction
from warehouse.controlplane.export import TENANTS_SCHEMA, export_tenants, tenants_file


def export(settings) -> list[dict]:
    engine = make_engine(settings.control_db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            path = export_tenants(session, settings.var_dir / "warehouse")
    finally:
        engine.dispose()
    assert path == tenants_file(settings.var_dir / "warehouse")
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == TENANTS_SCHEMA
    return table.to_pylist()


def test_every_tenant_with_its_effective_settings(settings, make):
    berlin = make.tenant("berlin", timezone="Europe/Berlin", currency="EUR",
                         settings={"rfm_window_days": 90})  # fmt: skip
    tokyo = make.tenant("tokyo", timezone="Asia/Tokyo", currency="JPY", status="suspended")
    rows = export(settings)
    assert [
        (r["tenant_id"], r["slug"], r["timezone"], r["currency"], r["status"]) for r in rows
    ] == [
        (berlin.id, "berlin", "Europe/Berlin", "EUR", "active"),
        (tokyo.id, "tokyo", "Asia/Tokyo", "JPY", "suspended"),
    ]
    berlin_settings, tokyo_settings = (json.loads(r["settings"]) for r in rows)
    assert berlin_settings["rfm_window_days"] == 90  # the override
    assert berlin_settings["vip_lifetime_value_minor"] == 100_000  # a default, filled in
    assert tokyo_settings["rfm_window_days"] == 365


def test_export_replaces_the_file_whole(settings, make):
    make.tenant("first")
    assert [r["slug"] for r in export(settings)] == ["first"]
    make.tenant("second")
    assert [r["slug"] for r in export(settings)] == ["first", "second"]
    leftovers = [p.name for p in tenants_file(settings.var_dir / "warehouse").parent.iterdir()]
    assert leftovers == ["tenants.parquet"]  # no temporary left behind


def test_no_tenants_is_an_empty_file_with_the_schema(settings):
    assert export(settings) == []
